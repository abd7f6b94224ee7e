// usage: node tcpload-tmp.js PORT PATTERN withEnvelope(0/1) seconds
const net = require('net');
const { ContextEnvelopeCodec } = require('@platform/user-context');
const [port, pattern, withEnv, secs] = process.argv.slice(2);
const codec = new ContextEnvelopeCodec({ keys: [{ id: 'k1', secret: process.env.USER_CONTEXT_SECRET }] });
const user = { userId: 'u', roles: [], permissions: ['inventory:read'] };
const sock = net.connect(Number(port), '127.0.0.1');
sock.setNoDelay(true);
let id = 0, done = 0, buf = '', lat = [];
const sent = new Map();
function send() {
  const i = String(++id);
  const p = { pattern, data: { sku: 'KB-001' }, id: i };
  if (withEnv === '1') p['x-user-context'] = codec.sign(user, 'r' + i);
  const j = JSON.stringify(p); sent.set(i, process.hrtime.bigint());
  sock.write(j.length + '#' + j);
}
sock.setEncoding('utf8');
sock.on('data', (c) => { buf += c; for (;;) { const h = buf.indexOf('#'); if (h < 0) break; const L = Number(buf.slice(0, h)); if (buf.length < h + 1 + L) break; const m = JSON.parse(buf.slice(h + 1, h + 1 + L)); buf = buf.slice(h + 1 + L); if (m.err) { console.log('err', m.err); process.exit(1); } if (m.isDisposed && m.response === undefined) continue; lat.push(Number(process.hrtime.bigint() - sent.get(m.id)) / 1e6); done++; send(); } });
sock.on('connect', () => { for (let k = 0; k < 50; k++) send(); const t0 = Date.now(); setTimeout(() => { const el = (Date.now() - t0) / 1000; lat.sort((a, b) => a - b); console.log(pattern, Math.round(done / el), 'req/s p50', lat[Math.floor(lat.length * .5)].toFixed(2), 'p99', lat[Math.floor(lat.length * .99)].toFixed(2)); process.exit(0); }, Number(secs) * 1000); });
