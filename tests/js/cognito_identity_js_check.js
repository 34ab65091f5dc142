// Signs in to the local Cognito with AWS's own JavaScript client (amazon-cognito-identity-js):
// USER_SRP_AUTH, ConfirmDevice (done by the library), then DEVICE_SRP_AUTH; a wrong
// password and a wrong device secret must be refused. Prints one JSON object.
// Usage: node cognito_identity_js_check.js <node_modules dir> <endpoint> <pool> <client> <user> <password>
const [modules, endpoint, poolId, clientId, username, password] = process.argv.slice(2);
const lib = require(require("path").join(modules, "amazon-cognito-identity-js"));

const store = {};
const storage = {
  setItem: (k, v) => { store[k] = String(v); },
  getItem: (k) => (k in store ? store[k] : null),
  removeItem: (k) => { delete store[k]; },
  clear: () => { for (const k of Object.keys(store)) delete store[k]; },
};
const pool = new lib.CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint, Storage: storage });

function signIn(pw) {
  return new Promise((resolve) => {
    const user = new lib.CognitoUser({ Username: username, Pool: pool, Storage: storage });
    const details = new lib.AuthenticationDetails({ Username: username, Password: pw });
    user.authenticateUser(details, {
      onSuccess: (session) => resolve({ ok: true, deviceKey: user.deviceKey || null,
        username: session.getAccessToken().decodePayload().username,
        tokenDevice: session.getAccessToken().decodePayload().device_key || null }),
      onFailure: (err) => resolve({ ok: false, code: err.code || err.name, message: err.message }),
      mfaRequired: () => resolve({ ok: false, code: "MFA" }),
      newPasswordRequired: () => resolve({ ok: false, code: "NEW_PASSWORD" }),
    });
  });
}

(async () => {
  const out = {};
  out.wrongPassword = await signIn(password + "x");
  out.first = await signIn(password);           // SRP, then ConfirmDevice by the library
  out.second = await signIn(password);          // SRP, then DEVICE_SRP_AUTH
  for (const k of Object.keys(store)) if (k.endsWith(".randomPasswordKey")) store[k] = store[k] + "x";
  out.wrongDevice = await signIn(password);
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
