#!/usr/bin/env node
// Prints an HS256 access token signed with JWT_SECRET (or the development
// secret the gateway falls back to), for trying the API by hand.
const { parseArgs } = require('node:util');
const jwt = require('jsonwebtoken');

// The development secret lives in the library source; ts-node compiles that
// one file so the value is never copied here.
require('ts-node').register({
  transpileOnly: true,
  compilerOptions: { module: 'commonjs' },
});
const {
  DEVELOPMENT_JWT_SECRET,
} = require('../libs/user-context/src/lib/config/env');

const usage = `Usage: npm run -s token -- --sub USER [options]

  --sub ID             user id (the "sub" claim); required
  --email ADDRESS      "email" claim
  --roles A,B          "roles" claim, comma-separated
  --permissions A,B    "permissions" claim, comma-separated
  --expires-in TIME    lifetime: seconds, or a span such as 15m, 2h (default 1h)

JWT_SECRET, JWT_ISSUER and JWT_AUDIENCE are read from the environment, as the gateway reads them.`;

function list(value) {
  return value
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : [];
}

function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        sub: { type: 'string' },
        email: { type: 'string' },
        roles: { type: 'string' },
        permissions: { type: 'string' },
        'expires-in': { type: 'string', default: '1h' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.sub) {
    console.error(`--sub is required.\n\n${usage}`);
    return 2;
  }

  const secret = process.env.JWT_SECRET || DEVELOPMENT_JWT_SECRET;
  if (!process.env.JWT_SECRET) {
    console.error(
      'JWT_SECRET is not set; signing with the development secret.',
    );
  }
  const expiresIn = /^\d+$/.test(values['expires-in'])
    ? Number(values['expires-in'])
    : values['expires-in'];

  const claims = {
    roles: list(values.roles),
    permissions: list(values.permissions),
    ...(values.email ? { email: values.email } : {}),
  };
  try {
    const token = jwt.sign(claims, secret, {
      algorithm: 'HS256',
      subject: values.sub,
      expiresIn,
      ...(process.env.JWT_ISSUER ? { issuer: process.env.JWT_ISSUER } : {}),
      ...(process.env.JWT_AUDIENCE
        ? { audience: process.env.JWT_AUDIENCE }
        : {}),
    });
    console.log(token);
    return 0;
  } catch (error) {
    console.error(`Could not sign the token: ${error.message}`);
    return 1;
  }
}

process.exitCode = main();
