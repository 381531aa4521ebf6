// The browser's DPoP key (RFC 9449): one ECDSA P-256 key pair per origin, made with
// WebCrypto as non-extractable and kept in IndexedDB (structured clone keeps it
// non-extractable), so a copy of the token record elsewhere has no key to sign with.
// Loaded by `dpop.rs`; every function rejects where IndexedDB or WebCrypto is missing or
// refused, and the session is then created unbound. The database is named after the app
// (`names.rs`).

const STORE = "keys";
const ID = "dpop";

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function open(database) {
  const r = indexedDB.open(database, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

function b64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

let cached = null;

async function keyPair(database) {
  if (cached) return cached;
  const db = await open(database);
  let pair = await request(db.transaction(STORE).objectStore(STORE).get(ID));
  if (!pair) {
    const made = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ]);
    // `add`, not `put`: if another tab stored its key first, both use that one.
    try {
      await request(db.transaction(STORE, "readwrite").objectStore(STORE).add(made, ID));
    } catch (_) {}
    pair = await request(db.transaction(STORE).objectStore(STORE).get(ID));
  }
  db.close();
  if (!pair || !pair.privateKey) throw new Error("no DPoP key could be kept");
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  cached = { pair, jwk: { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } };
  return cached;
}

/**
 * Whether this page already holds the key: only loading it (IndexedDB) can hang, so only
 * that is raced against a timeout; signing with a held key is not.
 */
export function dpop_key_loaded() {
  return cached !== null;
}

/**
 * A DPoP proof for `POST htu`, signed with this origin's key kept in the IndexedDB
 * `database` (`nonce` may be null).
 */
export async function dpop_proof(htu, nonce, database) {
  const { pair, jwk } = await keyPair(database);
  const encode = (value) => b64url(new TextEncoder().encode(JSON.stringify(value)));
  const claims = { htm: "POST", htu, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID() };
  if (nonce) claims.nonce = nonce;
  const input = `${encode({ typ: "dpop+jwt", alg: "ES256", jwk })}.${encode(claims)}`;
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    pair.privateKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(signature)}`;
}
