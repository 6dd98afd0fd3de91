// gateway-compare.njs — nginx's side of the auth scenario of
// bench/gateway-compare.sh: the closest equivalent of gatewayd's JWT check
// that nginx's njs module can do. gateway-compare.sh replaces @SECRET@ with
// the run's HS256 key (base64) and reads `consumer` through js_set.
//
// It checks: a Bearer token of three base64url parts, an HS256 signature
// (compared as strings, not in constant time), alg HS256, exp present and not
// past (30 s leeway), nbf not ahead (30 s leeway), iss, and that sub names the
// one configured consumer. It does not check typ, crit, aud or duplicate
// keys, which gatewayd does.
import crypto from 'crypto';

const KEY = Buffer.from('@SECRET@', 'base64');
const ISSUER = 'cairn-bench';
const CONSUMERS = { 'bench-consumer': true };
const LEEWAY = 30;

function decode(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString());
}

// consumer returns the consumer a valid token names, or '' (nginx then
// answers 401).
function consumer(r) {
    const auth = r.headersIn['Authorization'] || '';
    if (!auth.startsWith('Bearer ')) {
        return '';
    }
    const parts = auth.slice(7).split('.');
    if (parts.length !== 3) {
        return '';
    }
    const sig = crypto.createHmac('sha256', KEY).update(parts[0] + '.' + parts[1]).digest('base64url');
    if (sig !== parts[2]) {
        return '';
    }
    let header, claims;
    try {
        header = decode(parts[0]);
        claims = decode(parts[1]);
    } catch (e) {
        return '';
    }
    const now = Date.now() / 1000;
    if (header.alg !== 'HS256' || typeof claims.exp !== 'number' || claims.exp + LEEWAY < now) {
        return '';
    }
    if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY > now) {
        return '';
    }
    if (claims.iss !== ISSUER || !CONSUMERS[claims.sub]) {
        return '';
    }
    return claims.sub;
}

export default { consumer };
