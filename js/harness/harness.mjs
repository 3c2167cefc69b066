// The harness page: everything happens here, with edgeward/web (the same core as the gateway).
// Nothing is sent anywhere: the page loads its own files and the wasm module, and that is all.
import init, { Verifier, EdgewardError, decodeUnverified } from '../web.mjs';

const $ = (id) => document.getElementById(id);
const LONG_LIVED_SECONDS = 3600;
const SYMMETRIC = /^HS\d+$/;

function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1).replace(/\.0$/, '')} h`;
  return `${(s / 86400).toFixed(1).replace(/\.0$/, '')} days`;
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

// The token as pasted, without surrounding whitespace or a `Bearer ` prefix.
function tokenText() {
  return $('token').value.trim().replace(/^bearer\s+/i, '');
}

function currentNow() {
  const text = $('now').value.trim();
  if (text === '') return Math.floor(Date.now() / 1000);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new Error('Now must be whole Unix seconds');
  return Number(text);
}

// A policy with one provider, `harness`, from the JWKS fields. Empty issuer/audience are taken
// from the token itself (and a warning says they were not checked).
function policyFromJwks(decoded, warnings) {
  const jwks = parseJson($('jwks').value, 'The JWKS');
  let issuer = $('issuer').value.trim();
  let audiences = words($('audience').value);
  const claims = decoded ? decoded.claims : {};
  if (issuer === '') {
    issuer = typeof claims.iss === 'string' && claims.iss !== '' ? claims.iss : 'unset';
    warnings.push(['info', 'No issuer given: iss was taken from the token and not checked.']);
  }
  if (audiences.length === 0) {
    const aud = Array.isArray(claims.aud) ? claims.aud.filter((a) => typeof a === 'string' && a) : [claims.aud];
    audiences = aud.filter((a) => typeof a === 'string' && a !== '');
    if (audiences.length === 0) audiences = ['unset'];
    warnings.push(['info', 'No audience given: aud was taken from the token and not checked.']);
  }
  const algorithms = words($('algorithms').value.replace(/,/g, ' '));
  return {
    providers: { harness: { issuer, audiences, algorithms: algorithms.length ? algorithms : undefined, local_jwks: jwks } },
    token_cache_size: 0,
  };
}

function tokenWarnings(decoded, warnings) {
  const { header, claims } = decoded;
  if (SYMMETRIC.test(String(header.alg))) {
    warnings.push(['warn', `Symmetric algorithm ${header.alg}: anyone who can verify can also mint tokens.`]);
  }
  if (header.alg === 'none') warnings.push(['warn', 'alg "none": an unsigned token.']);
  if (claims.aud === undefined || (Array.isArray(claims.aud) && claims.aud.length === 0) || claims.aud === '') {
    warnings.push(['warn', 'Missing aud: the token is not bound to an audience; any service could accept it.']);
  }
  const scopes = [
    ...(typeof claims.scope === 'string' ? claims.scope.split(' ') : []),
    ...(Array.isArray(claims.scp) ? claims.scp : typeof claims.scp === 'string' ? claims.scp.split(' ') : []),
  ].filter((s) => typeof s === 'string' && s !== '');
  const wild = scopes.filter((s) => s.includes('*'));
  if (wild.length) warnings.push(['warn', `Wildcard scope${wild.length > 1 ? 's' : ''}: ${wild.join(' ')}`]);
  if (typeof claims.exp !== 'number') {
    warnings.push(['warn', 'No exp: the token never expires (edgeward refuses it).']);
  } else if (typeof claims.iat === 'number' && claims.exp - claims.iat > LONG_LIVED_SECONDS) {
    warnings.push(['warn', `Long-lived token: valid for ${duration(claims.exp - claims.iat)} (more than 1 h).`]);
  } else if (typeof claims.iat !== 'number') {
    warnings.push(['info', 'No iat: the total lifetime is unknown.']);
  }
  return scopes;
}

function showLifetime(decoded, now) {
  const claims = decoded ? decoded.claims : {};
  const remaining = $('lifetime-remaining');
  const total = $('lifetime-total');
  if (typeof claims.exp === 'number') {
    const left = claims.exp - now;
    remaining.textContent = left > 0 ? `${duration(left)} (expires ${new Date(claims.exp * 1000).toISOString()})` : `expired ${duration(left)} ago`;
    remaining.className = left > 0 ? '' : 'bad';
  } else {
    remaining.textContent = decoded ? 'no exp' : '—';
    remaining.className = decoded ? 'bad' : '';
  }
  total.textContent = typeof claims.exp === 'number' && typeof claims.iat === 'number' ? duration(claims.exp - claims.iat) : '—';
}

function showWarnings(warnings) {
  const list = $('warnings');
  list.replaceChildren();
  if (warnings.length === 0) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'None.';
    list.append(li);
  }
  for (const [level, text] of warnings) {
    const li = document.createElement('li');
    li.className = level;
    li.textContent = text;
    list.append(li);
  }
}

function showVerdict(status, word, code, detail, http) {
  $('verdict').dataset.status = status;
  $('verdict-word').textContent = word;
  $('verdict-code').textContent = code;
  $('verdict-detail').textContent = detail;
  $('verdict-http').textContent = http;
}

function showScopes(scopes, needed) {
  const target = $('granted-scopes');
  target.replaceChildren();
  if (scopes.length === 0) target.textContent = '—';
  for (const scope of scopes) {
    const chip = document.createElement('span');
    chip.className = `chip${scope.includes('*') ? ' wild' : needed.includes(scope) ? ' needed' : ''}`;
    chip.textContent = scope;
    target.append(chip);
  }
}

function run() {
  const warnings = [];
  const token = tokenText();
  let decoded = null;
  let decodeError = null;
  $('header-json').textContent = '—';
  $('claims-json').textContent = '—';
  if (token !== '') {
    try {
      decoded = decodeUnverified(token);
      $('header-json').textContent = JSON.stringify(decoded.header, null, 2);
      $('claims-json').textContent = JSON.stringify(decoded.claims, null, 2);
    } catch (error) {
      decodeError = error;
    }
  }
  let now;
  try {
    now = currentNow();
  } catch (error) {
    showVerdict('error', 'Check the inputs', '', error.message, '');
    return;
  }
  showLifetime(decoded, now);
  const needed = words($('scopes').value);
  showScopes(decoded ? tokenWarnings(decoded, warnings) : [], needed);

  if (token === '') {
    showWarnings(warnings);
    showVerdict('idle', 'Paste a token', '', '', '');
    return;
  }
  let verifier;
  try {
    const usePolicy = $('mode-policy').checked;
    if (!usePolicy && $('jwks').value.trim() === '') throw new Error('Paste the JWKS (or switch to a policy).');
    if (usePolicy && $('policy').value.trim() === '') throw new Error('Paste the policy (or switch to a JWKS).');
    const policy = usePolicy ? $('policy').value : policyFromJwks(decoded, warnings);
    verifier = new Verifier(policy, { memoize: false });
  } catch (error) {
    showWarnings(warnings);
    const code = error instanceof EdgewardError ? error.code : '';
    const where = error instanceof EdgewardError && error.path ? ` (at ${error.path})` : '';
    showVerdict('error', 'Cannot load the keys or policy', code, error.message + where, '');
    return;
  }
  try {
    const provider = $('provider').value.trim() || undefined;
    const result = verifier.verify(token, { scopes: needed, now, provider: $('mode-policy').checked ? provider : undefined });
    showVerdict('accepted', 'Accepted', 'OK', `Verified for provider “${result.provider}”.`, 'HTTP 200: the request goes through.');
  } catch (error) {
    if (!(error instanceof EdgewardError)) throw error;
    const claim = error.claim ? ` Claim: ${error.claim}.` : '';
    const { denial } = error;
    const http = `HTTP ${denial.status}${denial.wwwAuthenticate ? ` · WWW-Authenticate: ${denial.wwwAuthenticate}` : ''}${denial.retryAfter ? ` · Retry-After: ${denial.retryAfter}` : ''}`;
    const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    showVerdict('refused', 'Refused', error.code, `${message}.${claim}`, http);
    if (decodeError && decodeError !== error) warnings.push(['info', `Decoding: ${decodeError.message}`]);
  } finally {
    verifier.free();
  }
  showWarnings(warnings);
}

function syncMode() {
  const usePolicy = $('mode-policy').checked;
  $('policy-fields').hidden = !usePolicy;
  $('jwks-fields').hidden = usePolicy;
}

await init();
document.body.dataset.ready = 'true';
$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  run();
});
$('form').addEventListener('input', () => {
  syncMode();
  run();
});
syncMode();
run();
