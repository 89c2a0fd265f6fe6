// Interop check with an independent PASETO v4 implementation (npm "paseto" by panva,
// Web Crypto Ed25519). Used by tests/cli/run.sh; the package is installed under build/.
//   node interop.mjs sign   MODULES_DIR SECRET_PASERK_FILE CLAIMS_JSON_FILE FOOTER  -> token on stdout
//   node interop.mjs verify MODULES_DIR PUBLIC_PASERK_FILE TOKEN_FILE NOW_EPOCH     -> claims JSON + "\n" + footer
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [cmd, modules, keyFile, dataFile, extra] = process.argv.slice(2);
const root = join(modules, 'paseto');
const { PublicProtocol } = await import(pathToFileURL(join(root, 'index.js')).href);
const v4pub = await import(pathToFileURL(join(root, 'v4', 'public.js')).href);
const v4 = new PublicProtocol(v4pub.SignFactory, v4pub.VerifyFactory,
                              v4pub.ImportPublicKeyFactory, v4pub.ImportSecretKeyFactory);
const enc = new TextEncoder();
const key = readFileSync(keyFile, 'utf8').trim();

if (cmd === 'sign') {
  const sk = await v4.ImportSecretKey(key);
  const claims = JSON.parse(readFileSync(dataFile, 'utf8'));
  // exp is in the claims, so no expiresIn default applies; iat too.
  const token = await v4.Sign(sk, claims, { footer: enc.encode(extra), addIssuedAt: false });
  process.stdout.write(token + '\n');
} else if (cmd === 'verify') {
  const pk = await v4.ImportPublicKey(key);
  const token = readFileSync(dataFile, 'utf8').trim();
  const { claims, footer } = await v4.Verify(pk, token, { now: new Date(Number(extra) * 1000) });
  process.stdout.write(JSON.stringify(claims) + '\n' + new TextDecoder().decode(footer) + '\n');
} else {
  process.stderr.write('usage: interop.mjs sign|verify ...\n');
  process.exit(2);
}
