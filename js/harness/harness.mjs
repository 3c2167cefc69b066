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

// Providers of a loaded policy that fetch their keys (`remote_jwks`) and have none inline: the
// harness fetches nothing, so their JWKS has to be pasted.
function remoteProviders(verifier) {
  return verifier.providers
    .map((provider) => ({ provider, remote: verifier.remoteJwksPolicy(provider) }))
    .filter(({ provider, remote }) => remote !== undefined && verifier.keyCount(provider) === undefined)
    .map(({ provider, remote }) => ({ provider, uri: remote.uri }));
}

const remoteBoxes = new Map(); // provider -> { block, label, note, textarea, uri }
let remoteBoxCount = 0;

// One "paste the JWKS" box per remote provider of the policy; boxes are kept (with what was
// pasted) while their provider stays, so typing in them is not disturbed.
function showRemoteJwks(remote) {
  const container = $('remote-jwks');
  const wanted = new Set(remote.map((r) => r.provider));
  for (const [provider, box] of remoteBoxes) {
    if (!wanted.has(provider)) {
      box.block.remove();
      remoteBoxes.delete(provider);
    }
  }
  remote.forEach(({ provider, uri }, index) => {
    let box = remoteBoxes.get(provider);
    if (!box) {
      const id = `remote-jwks-${remoteBoxCount++}`;
      const block = document.createElement('div');
      block.className = 'remote-jwks';
      block.dataset.provider = provider;
      const label = document.createElement('label');
      label.htmlFor = id;
      const note = document.createElement('p');
      note.className = 'note';
      const textarea = document.createElement('textarea');
      textarea.id = id;
      textarea.rows = 6;
      textarea.dataset.provider = provider;
      textarea.placeholder = '{ "keys": [ … ] }  (the document the URI above serves)';
      block.append(label, note, textarea);
      box = { block, label, note, textarea, uri: null };
      remoteBoxes.set(provider, box);
    }
    box.label.textContent = remote.length > 1 ? `JWKS for ${provider}` : 'JWKS';
    if (box.uri !== uri) {
      box.uri = uri;
      const code = document.createElement('code');
      code.textContent = uri;
      box.note.replaceChildren('This policy fetches keys from ', code, '; the harness does not fetch — paste the JWKS here.');
    }
    box.block.classList.toggle('pasted', box.textarea.value.trim() !== '');
    // In the policy's order; a box already in place is not moved (that would take its focus).
    if (container.children[index] !== box.block) container.insertBefore(box.block, container.children[index] ?? null);
  });
  container.hidden = remote.length === 0;
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

  // A pasted policy is loaded first, token or not: its remote_jwks providers need a box for keys.
  const usePolicy = $('mode-policy').checked;
  const policyText = $('policy').value.trim();
  let verifier = null;
  let loadError = null;
  if (usePolicy && policyText !== '') {
    try {
      verifier = new Verifier(policyText, { memoize: false });
    } catch (error) {
      loadError = error; // shown below once there is a token; the boxes stay as they are
    }
  }
  const remote = verifier ? remoteProviders(verifier) : [];
  if (verifier || policyText === '') showRemoteJwks(remote);

  let now;
  try {
    now = currentNow();
  } catch (error) {
    verifier?.free();
    showVerdict('error', 'Check the inputs', '', error.message, '');
    return;
  }
  showLifetime(decoded, now);
  const needed = words($('scopes').value);
  showScopes(decoded ? tokenWarnings(decoded, warnings) : [], needed);

  if (token === '') {
    verifier?.free();
    showWarnings(warnings);
    showVerdict('idle', 'Paste a token', '', '', '');
    return;
  }
  const missingKeys = [];
  let where = '';
  try {
    if (!usePolicy && $('jwks').value.trim() === '') throw new Error('Paste the JWKS (or switch to a policy).');
    if (usePolicy && policyText === '') throw new Error('Paste the policy (or switch to a JWKS).');
    if (loadError) throw loadError;
    if (!usePolicy) verifier = new Verifier(policyFromJwks(decoded, warnings), { memoize: false });
    for (const { provider, uri } of remote) {
      const text = remoteBoxes.get(provider).textarea.value.trim();
      if (text === '') {
        missingKeys.push({ provider, uri });
        continue;
      }
      try {
        verifier.setJwks(provider, text);
      } catch (error) {
        where = remote.length > 1 ? ` (the JWKS pasted for ${provider})` : ' (the pasted JWKS)';
        throw error;
      }
    }
  } catch (error) {
    verifier?.free();
    showWarnings(warnings);
    const code = error instanceof EdgewardError ? error.code : '';
    if (where === '' && error instanceof EdgewardError && error.path) where = ` (at ${error.path})`;
    showVerdict('error', 'Cannot load the keys or policy', code, error.message + where, '');
    return;
  }
  try {
    const provider = $('provider').value.trim() || undefined;
    const result = verifier.verify(token, { scopes: needed, now, provider: usePolicy ? provider : undefined });
    showVerdict('accepted', 'Accepted', 'OK', `Verified for provider “${result.provider}”.`, 'HTTP 200: the request goes through.');
  } catch (error) {
    if (!(error instanceof EdgewardError)) throw error;
    const { denial } = error;
    if (error.code === 'ERR_JWKS_UNAVAILABLE' && missingKeys.length > 0) {
      // Not a bare 503: say where the keys would come from and where to paste them.
      const which = missingKeys.length === 1
        ? `This policy fetches keys from ${missingKeys[0].uri}`
        : `This policy fetches keys from ${missingKeys.map(({ provider, uri }) => `${uri} (${provider})`).join(' and ')}`;
      showVerdict(
        'needs-keys',
        'Paste the JWKS',
        error.code,
        `${which}; the harness does not fetch — paste the JWKS into the box under the policy.`,
        `A gateway answers HTTP ${denial.status}${denial.retryAfter ? ` (Retry-After: ${denial.retryAfter})` : ''} until it has fetched the keys.`,
      );
    } else {
      const claim = error.claim ? ` Claim: ${error.claim}.` : '';
      const http = `HTTP ${denial.status}${denial.wwwAuthenticate ? ` · WWW-Authenticate: ${denial.wwwAuthenticate}` : ''}${denial.retryAfter ? ` · Retry-After: ${denial.retryAfter}` : ''}`;
      const message = error.message.charAt(0).toUpperCase() + error.message.slice(1);
      showVerdict('refused', 'Refused', error.code, `${message}.${claim}`, http);
    }
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
