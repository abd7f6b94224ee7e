#!/usr/bin/env node
// Prints a new Ed25519 key pair for USER_CONTEXT_SIGNING=ed25519: the private
// key goes to the gateway only, the public key to every app.
const { generateKeyPairSync } = require('node:crypto');

const id = process.argv[2] || 'k1';
if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
  console.error(
    'Usage: npm run -s context-keys -- [KEY_ID]   (1-64 characters of A-Z a-z 0-9 _ -)',
  );
  process.exit(2);
}
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
// The raw 32-byte keys are the last 32 bytes of their DER encodings.
const raw = (der) => der.subarray(der.length - 32).toString('base64url');

console.log('# Gateway only:');
console.log(`USER_CONTEXT_KEY_ID=${id}`);
console.log(
  `USER_CONTEXT_PRIVATE_KEY=${raw(privateKey.export({ type: 'pkcs8', format: 'der' }))}`,
);
console.log('# Every app:');
console.log('USER_CONTEXT_SIGNING=ed25519');
console.log(
  `USER_CONTEXT_PUBLIC_KEYS=${id}=${raw(publicKey.export({ type: 'spki', format: 'der' }))}`,
);
