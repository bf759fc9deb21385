/**
 * A peer of another process, as the gateway sees an endorser: it asks that peer to endorse over
 * mutual TLS (`POST /peer/v1/endorse`, see `peer-endorsement-service.ts`) and to report its height
 * (`GET /peer/v1/height`), presenting this process's certificate and accepting only a registered
 * peer process of a member org at the other end. Every endorsement it returns has been checked:
 * signed by the key the chain configuration lists for that peer, over a result of this proposal.
 *
 * Endorsing only simulates, so a request whose kept-alive connection the other side had just
 * closed is sent once more on a new connection.
 */
import { request, type Agent } from 'node:https';
import { EndorseError, ERROR_CODES, isSilkError, SilkError, type ErrorCode } from '../errors.js';
import { toBase64 } from '../api/wire.js';
import type { EndorsingPeer } from '../gateway/gateway.js';
import { decodeProposal } from '../ledger/proposal.js';
import type { EndorsementResponse, SignedProposalBytes } from '../peer/peer.js';
import { createLivenessMonitor, NODE_SILENT_REASON } from '../liveness/liveness-monitor.js';
import { decodeEndorsementReply, endorsementOfReply, MAX_ENDORSEMENT_REPLY_BYTES, type EndorsementReply } from './endorsement-wire.js';
import { mtlsAgent, type TlsCredentials } from './mtls.js';
import { MAX_HEIGHT_WAIT_MS } from './peer-endorsement-service.js';
import type { TlsMembership } from './tls-pki.js';

/** Default time limit of one endorsement request (connection, simulation and answer). */
export const REMOTE_ENDORSE_TIMEOUT_MS = 10_000;
/**
 * While an endorsement request waits: how often the peer is checked alive (its height route must
 * answer within the same time). A peer that answers neither (stopped, cut off) is given up as
 * ENDORSER_UNAVAILABLE (`reason: silent`) instead of after the whole time limit, and the gateway
 * asks another peer when the policy allows. Simulating takes milliseconds: a live peer answers.
 */
export const REMOTE_LIVENESS_CHECK_MS = 1_000;
/** Time limit of a height request beyond the wait it asks for. */
const HEIGHT_REQUEST_SLACK_MS = 5_000;

/** Options of {@link createRemotePeer}. */
export interface RemotePeerOptions {
  /** The peer's process name (its certificate's CN). */
  readonly name: string;
  readonly org: string;
  /** The key the chain configuration lists for the peer: its endorsements must be signed by it. */
  readonly publicKey: Uint8Array;
  /** Base URL of the peer's port, `https://host:port`. */
  readonly url: string;
  /** Chains the peer serves. */
  readonly chains: readonly string[];
  /** This process's TLS certificate and key, and the alliance's CA bundle. */
  readonly credentials: TlsCredentials;
  /** The server must be a registered peer process of a member org. */
  readonly membership: TlsMembership;
  /** Time limit of one endorsement request (default {@link REMOTE_ENDORSE_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
}

/** A peer of another process, endorsing over mutual TLS. */
export interface RemotePeer extends EndorsingPeer {
  readonly remote: true;
  readonly url: string;
  chains(): readonly string[];
  /** The last height the peer reported for a chain (0 before it reported any). */
  height(chain: string): number;
  /**
   * Asks the peer to endorse.
   * @throws EndorseError ENDORSER_UNAVAILABLE (unreachable, TLS refused, timeout, stopping, an
   *   answer that is not an endorsement), BAD_ENDORSEMENT_SIGNATURE (an endorsement not of this
   *   proposal or not by the peer's key), or the peer's own refusal with its code
   */
  endorse(signed: SignedProposalBytes): Promise<EndorsementResponse>;
  /** Asks the peer for its height, waiting up to `timeoutMs` (at most 5 s) for `height`; never rejects. */
  waitForHeight(chain: string, height: number, timeoutMs: number): Promise<void>;
  /** Closes its connections. */
  close(): void;
}

interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** Why a request failed before an answer: for the error's `reason`. */
function failureReason(error: NodeJS.ErrnoException): string {
  if (error.name === 'AbortError' || error.name === 'TimeoutError' || error.code === 'ABORT_ERR') return 'timeout';
  if (/certificate|tls|ssl|alert/i.test(`${error.code ?? ''} ${error.message}`)) return 'tls';
  return 'unreachable';
}

function checkOptions(o: RemotePeerOptions): URL {
  const given = o as unknown;
  if (typeof given !== 'object' || given === null) throw new SilkError('INVALID_ARGUMENT', 'createRemotePeer needs options { name, org, publicKey, url, chains, credentials, membership }');
  if (typeof o.name !== 'string' || o.name === '' || typeof o.org !== 'string' || o.org === '') throw new SilkError('INVALID_ARGUMENT', 'a remote peer needs its process name and org');
  if (!(o.publicKey instanceof Uint8Array) || o.publicKey.length !== 33) throw new SilkError('INVALID_ARGUMENT', `remote peer ${o.name}: publicKey must be the 33-byte compressed key the chain configuration lists`);
  if (!Array.isArray(o.chains) || o.chains.some((c) => typeof c !== 'string')) throw new SilkError('INVALID_ARGUMENT', `remote peer ${o.name}: chains must be a list of chain names`);
  if (o.timeoutMs !== undefined && (!Number.isSafeInteger(o.timeoutMs) || o.timeoutMs < 1)) throw new SilkError('INVALID_ARGUMENT', `remote peer ${o.name}: timeoutMs must be a positive whole number of milliseconds`);
  let url: URL;
  try {
    url = new URL(o.url);
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', `remote peer ${o.name}: ${JSON.stringify(o.url)} is not a URL`, {}, { cause });
  }
  if (url.protocol !== 'https:' || url.pathname !== '/' || url.search !== '') throw new SilkError('INVALID_ARGUMENT', `remote peer ${o.name}: the URL must be https://host:port, got ${o.url}`);
  return url;
}

/**
 * Creates the endorser of a peer in another process.
 * @throws SilkError INVALID_ARGUMENT for options that do not describe a peer
 * @example const org2 = createRemotePeer({ name: 'peer0.org2', org: 'Org2', publicKey, url: 'https://10.0.2.10:7051', chains: ['trade'], credentials, membership })
 */
export function createRemotePeer(options: RemotePeerOptions): RemotePeer {
  const url = checkOptions(options);
  const { name } = options;
  const timeoutMs = options.timeoutMs ?? REMOTE_ENDORSE_TIMEOUT_MS;
  const chains = [...options.chains];
  const heights = new Map<string, number>();
  const agent: Agent = mtlsAgent({ credentials: options.credentials, membership: options.membership, serverRoles: ['peer'] });
  const where = `peer ${name} (${options.org}) at ${url.host}`;

  const noteHeight = (chain: string, height: number): void => {
    if (height > (heights.get(chain) ?? 0)) heights.set(chain, height);
  };

  /** One request; `controller` (default: one of its own) is aborted at the time limit, and may be aborted before it. */
  const send = (method: 'GET' | 'POST', path: string, body: string | undefined, ms: number, controller = new AbortController()): Promise<HttpAnswer & { reused: boolean }> => new Promise((resolve, reject) => {
    const deadline = setTimeout(() => { controller.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')); }, ms);
    const req = request({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 443 : Number(url.port),
      method,
      path,
      agent,
      signal: controller.signal,
      headers: body === undefined ? { accept: 'application/cbor, application/json' } : { 'content-type': 'application/json', accept: 'application/cbor, application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ENDORSEMENT_REPLY_BYTES) {
          req.destroy(new SilkError('ENDORSER_UNAVAILABLE', `${where} answered more than ${MAX_ENDORSEMENT_REPLY_BYTES} bytes`, { peer: name, reason: 'bad-answer' }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks), reused: req.reusedSocket }); });
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      (error as NodeJS.ErrnoException & { reused?: boolean }).reused = req.reusedSocket;
      reject(error);
    });
    req.on('close', () => { clearTimeout(deadline); });
    req.end(body);
  });

  // Any answer to the height route, whatever its status, shows the peer's process runs.
  const liveness = createLivenessMonitor({ periodMs: REMOTE_LIVENESS_CHECK_MS, check: async (_peer, ms) => { await send('GET', `/peer/v1/height?chain=${encodeURIComponent(chains[0] ?? 'none')}`, undefined, ms); } });

  /**
   * One request, sent once more when a reused connection turned out to be closed; with `watch`,
   * given up when the peer fails a liveness check while the request waits.
   */
  const call = async (method: 'GET' | 'POST', path: string, body: string | undefined, ms: number, watch = false): Promise<HttpAnswer> => {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!watch) return await send(method, path, body, ms);
        const controller = new AbortController();
        return await liveness.during(url.origin, () => send(method, path, body, ms, controller), controller);
      } catch (error) {
        if (isSilkError(error) && error.details.reason === NODE_SILENT_REASON) {
          throw new EndorseError('ENDORSER_UNAVAILABLE', `${where} gave no answer, nor to a health check within ${REMOTE_LIVENESS_CHECK_MS} ms (stopped or cut off)`, { peer: name, reason: 'silent' }, { cause: error });
        }
        if (error instanceof SilkError) throw error;
        const e = error as NodeJS.ErrnoException & { reused?: boolean };
        if (attempt === 1 && e.reused === true && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) continue;
        const reason = failureReason(e);
        const text = reason === 'timeout' ? `did not answer within ${ms} ms` : `could not be reached (${e.code ?? e.message})`;
        throw new EndorseError('ENDORSER_UNAVAILABLE', `${where} ${text}${reason === 'tls' ? `: the TLS link was refused: ${e.message}` : ''}`, { peer: name, reason }, { cause: error });
      }
    }
  };

  /** The peer's refusal as an error of ours, naming the peer. */
  const refusal = (answer: HttpAnswer): SilkError => {
    let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
    try {
      parsed = JSON.parse(answer.body.toString('utf8')) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    const code = parsed?.error?.code;
    const message = typeof parsed?.error?.message === 'string' ? parsed.error.message : '';
    if (typeof code !== 'string' || !(code in ERROR_CODES)) {
      return new EndorseError('ENDORSER_UNAVAILABLE', `${where} answered HTTP ${answer.status} without a Silkledger error body`, { peer: name, reason: 'bad-answer' });
    }
    if (code === 'SHUTTING_DOWN') return new EndorseError('ENDORSER_UNAVAILABLE', `${where} is stopping`, { peer: name, reason: 'stopping' });
    // The link itself was refused (this process's certificate), as when the handshake fails.
    if (code === 'UNTRUSTED_CERTIFICATE') return new EndorseError('ENDORSER_UNAVAILABLE', `${where} refused the TLS link: ${message}`, { peer: name, reason: 'tls' });
    return new EndorseError(code as ErrorCode, `${where}: ${message}`, { peer: name });
  };

  return {
    name,
    org: options.org,
    publicKey: options.publicKey,
    remote: true,
    url: url.origin,
    chains: () => chains,
    height: (chain) => heights.get(chain) ?? 0,
    async endorse(signed) {
      const chain = decodeProposal(signed.bytes).chain;
      const body = JSON.stringify({ proposal: toBase64(signed.bytes), signature: toBase64(signed.signature) });
      const answer = await call('POST', '/peer/v1/endorse', body, timeoutMs, true);
      if (answer.status !== 200) throw refusal(answer);
      if (!answer.contentType.startsWith('application/cbor')) throw new EndorseError('ENDORSER_UNAVAILABLE', `${where} answered ${answer.contentType || 'no content type'}, not an endorsement`, { peer: name, reason: 'bad-answer' });
      let reply: EndorsementReply;
      try {
        reply = decodeEndorsementReply(new Uint8Array(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
      } catch (cause) {
        throw new EndorseError('ENDORSER_UNAVAILABLE', `${where} answered an endorsement that does not decode: ${(cause as Error).message}`, { peer: name, reason: 'bad-answer' }, { cause });
      }
      const endorsement = endorsementOfReply(reply, signed, options.publicKey, name);
      noteHeight(chain, reply.height);
      return endorsement;
    },
    async waitForHeight(chain, height, waitMs) {
      const wait = Math.max(0, Math.min(MAX_HEIGHT_WAIT_MS, Math.floor(waitMs)));
      try {
        const answer = await call('GET', `/peer/v1/height?chain=${encodeURIComponent(chain)}&min=${height}&waitMs=${wait}`, undefined, wait + HEIGHT_REQUEST_SLACK_MS);
        if (answer.status !== 200) return;
        const parsed = JSON.parse(answer.body.toString('utf8')) as { height?: unknown };
        if (typeof parsed.height === 'number' && Number.isSafeInteger(parsed.height) && parsed.height >= 0) noteHeight(chain, parsed.height);
      } catch {
        // An unreachable peer shows when it is asked to endorse, with the error naming it.
      }
    },
    close() {
      agent.destroy();
    },
  };
}
