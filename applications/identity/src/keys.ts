import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * The RS256 key pair: from `pem` (a secret in production), else from `file`, which is created with
 * a new 2048-bit pair when it does not exist yet (local development; kept on disk across restarts).
 */
export function loadSigningKeys(pem: string | undefined, file: string): SigningKeys {
  let text = pem;
  if (!text) {
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    text = readFileSync(file, 'utf8');
  }
  const privateKey = createPrivateKey(text.replace(/\\n/g, '\n'));
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
