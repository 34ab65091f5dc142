// AWS Amplify JS v6 against the shipped local Cognito, as a new user's app would run it.
// Usage: node amplify_check.js NODE_MODULES ENDPOINT SCENARIO JSON_ARGS
// Prints one JSON object per step on stdout: what Amplify's sign-in API returned or threw.
"use strict";
const path = require("path");
const { createRequire } = require("module");

const [modules, endpoint, scenario, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs);
const req = createRequire(path.join(modules, "noop.js"));
const { Amplify } = req("aws-amplify");
const { signIn, confirmSignIn, signOut } = req("aws-amplify/auth");

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: args.poolId,
      userPoolClientId: args.clientId,
      userPoolEndpoint: endpoint,
    },
  },
});

function report(step, value) {
  process.stdout.write(JSON.stringify({ step, ...value }) + "\n");
}

async function attempt(step, call) {
  try {
    const out = await call();
    report(step, { ok: true, next: out.nextStep });
    return out;
  } catch (error) {
    report(step, { ok: false, name: error.name, message: error.message });
    return null;
  }
}

async function newPassword() {
  // signIn with the temporary password, then confirmSignIn with the new one.
  await attempt("signIn", () => signIn({ username: args.username, password: args.temporary }));
  await attempt("confirmWithoutAttributes", () =>
    confirmSignIn({ challengeResponse: args.newPassword }),
  );
  await attempt("signInAgain", () => signIn({ username: args.username, password: args.temporary }));
  await attempt("confirmWithAttributes", () =>
    confirmSignIn({
      challengeResponse: args.newPassword,
      options: { userAttributes: args.attributes },
    }),
  );
  await signOut();
}

async function firstFactors() {
  await attempt("preferEmailCode", () =>
    signIn({
      username: args.username,
      options: { authFlowType: "USER_AUTH", preferredChallenge: "EMAIL_OTP" },
    }),
  );
  await attempt("choose", () =>
    signIn({ username: args.username, options: { authFlowType: "USER_AUTH" } }),
  );
}

const scenarios = { newPassword, firstFactors };
scenarios[scenario]().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
    process.exit(1);
  },
);
