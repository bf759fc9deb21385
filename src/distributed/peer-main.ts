/**
 * A peer process of distributed mode: `node --max-semi-space-size=64 dist/distributed/peer-main.js --description FILE --name PEER`
 * (the Node.js flags of src/node-flags.ts, which the launcher passes).
 *
 * It opens its peer (its own SQLite ledgers under `<peer dataDir>/ledger`, its key from
 * `<peer dataDir>/keys/peer.pem`, the demo contracts installed), connects to the ordering service
 * (the etcd-backed orderer client), joins the chains the description lists for it from their
 * genesis blocks, follows delivery, and serves the HTTP API on its own address (and on the API's
 * address too when the description's `api` fronts it: over HTTPS with the `api` certificate when
 * the bootstrap wrote it, see {@link PeerProcessOptions.apiTls}). Readiness (`GET /api/ready`) means every
 * block ordered so far is committed here.
 *
 * A peer that is behind the ordering log's retained window (the log compacts once every peer has
 * committed) fetches the missing blocks from other peers
 * (`GET /api/chains/{chain}/blocks/{n}/raw`) and checks each one itself: `peer.deliver` checks the
 * hash chain, the orderer's signature and recomputes every transaction's validation. Nothing is
 * copied as files. With TLS the blocks come over mutual TLS from the other peers' own ports (the
 * peer-to-peer side, admitting registered peers only); without it from their plain APIs.
 *
 * With TLS (its certificate files exist), its own port serves HTTPS with its peer certificate
 * (a plain HTTP request there is answered `HTTPS_REQUIRED`), its etcd client presents its etcd
 * client certificate (`tls/etcd-client.crt`) over https, and endorsement crosses orgs: the process
 * serves `/peer/v1/endorse` and `/peer/v1/height` to member peers over mutual TLS on its own port
 * (a connection there that presents a client certificate reaches these routes, one without the
 * API), and its gateway endorses with its own peer plus a remote endorser for every other peer of
 * the description, so a submit through any org's API gathers the endorsements its policy needs.
 *
 * SIGTERM or SIGINT stop it gracefully: the API drains, delivery stops, the ledgers close.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { request as httpsRequest, type Agent } from 'node:https';
import { join, resolve } from 'node:path';
import type { Server as TlsServer } from 'node:tls';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import type { ApiBackend } from '../api/backend.js';
import { createNodeMetrics } from '../api/metrics.js';
import { createApiServer, type ApiHttpsOptions, type ApiServer } from '../api/server.js';
import type { Contract } from '../contracts/framework/contract.js';
import { IdentityContract } from '../contracts/identity/identity-contract.js';
import { signerFromPem, type Signer } from '../crypto/p256.js';
import { createInlineVerifier, createVerifyPool, type SignatureVerifier } from '../crypto/verify-pool.js';
import { isSilkError, SilkError } from '../errors.js';
import { createGateway, type EndorsingPeer, type Gateway } from '../gateway/gateway.js';
import { IDENTITY_CONTRACT } from '../identity/identity-record.js';
import { DEMO_CONTRACTS } from '../network/demo-alliance.js';
import { peerName } from '../network/org-keyring.js';
import { fromHex } from '../crypto/hash.js';
import type { Orderer } from '../ordering/orderer.js';
import { createPeer, type Peer } from '../peer/peer.js';
import { lockDataFolder, type DataLock } from '../storage/data-lock.js';
import { decodeTransaction } from '../ledger/transaction.js';
import { configOfTransaction } from '../ordering/block-cutter.js';
import { mtlsAgent, readTlsCredentials, type TlsCredentials } from './mtls.js';
import { openPeerEndorsementService, type PeerEndorsementService } from './peer-endorsement-service.js';
import { createRemotePeer, type RemotePeer } from './remote-peer.js';
import { genesisFile, peerKeyFile } from './network-bootstrap.js';
import { adminKeysOfChains, liveTlsMembership, processTlsFiles, tlsMembershipOfNetwork, type TlsMembership } from './tls-pki.js';
import { describedPath, readNetworkDescription, urlHost, watchNetworkDescription, type DescribedPeer, type NetworkDescription, type NetworkDescriptionWatch } from './network-description.js';

/** How often a peer looks whether delivery stalled below the ordered height (then it asks other peers). */
export const CATCH_UP_CHECK_MS = 1_000;
/** Time limit of one block request to another peer. */
const PEER_FETCH_TIMEOUT_MS = 10_000;
/** How long a peer waits for a chain's genesis block from the ordering service before asking other peers. */
const GENESIS_WAIT_MS = 15_000;

/** Options of {@link openPeerProcess}. */
export interface PeerProcessOptions {
  readonly description: NetworkDescription;
  /** The peer's name in the description. */
  readonly name: string;
  /** The ordering service (the etcd-backed orderer client). */
  readonly orderer: Orderer;
  /** Contracts installed (default: the demo contracts; the identity contract is always added). */
  readonly contracts?: readonly Contract[];
  readonly logger?: Logger;
  /** A `fetch` for block requests to other peers (default: the global one). */
  readonly fetch?: typeof fetch;
  /**
   * Mutual TLS between the peers (the process's credentials and the alliance's membership): the
   * peer's own port then serves HTTPS (the API to any client, the peer-to-peer routes to member
   * peers), and the peer endorses with every other described peer. Without it the process serves
   * plain HTTP and endorses with its own peer only.
   */
  readonly tls?: PeerTls;
  /** Time limit of one endorsement request to another peer (default 10 s). */
  readonly remoteEndorseTimeoutMs?: number;
  /**
   * The `api` certificate and key (as the bootstrap writes them under the API's data folder): the
   * description's `api` address, when this peer serves it, is then HTTPS with them (server
   * authentication only).
   */
  readonly apiTls?: ApiHttpsOptions;
}

/** A process's TLS credentials and the membership its links check. */
export interface PeerTls {
  readonly credentials: TlsCredentials;
  readonly membership: TlsMembership;
  /** The membership as it is now (re-read from the description), so peers added later are admitted. */
  readonly refreshMembership?: () => TlsMembership;
}

/** A running peer process. */
export interface PeerProcess {
  readonly peer: Peer;
  readonly gateway: Gateway;
  /** The other peers its gateway may ask for endorsements (none without TLS). */
  readonly remotePeers: readonly RemotePeer[];
  /** Base URLs the API listens on: its own address first, then the API's if it fronts it. */
  readonly urls: readonly string[];
  /** True once every chain has committed every block ordered so far (what `/api/ready` says). */
  ready(): boolean;
  /** Stops the API (draining requests), delivery and the ledgers; closes the orderer client. */
  close(): Promise<void>;
}

/** The described peer of a name. @throws SilkError CONFIG_INVALID */
function describedPeer(description: NetworkDescription, name: string): DescribedPeer {
  const me = description.peers.find((p) => p.name === name);
  if (me === undefined) throw new SilkError('CONFIG_INVALID', `the network description lists no peer named ${name}; peers: ${description.peers.map((p) => p.name).join(', ')}`);
  return me;
}

/** Other peers serving a chain, as base URLs of their ports (`https` for the peer-to-peer side). */
function otherPeerUrls(description: NetworkDescription, me: DescribedPeer, chain: string, scheme: 'http' | 'https'): string[] {
  return description.peers.filter((p) => p.name !== me.name && p.chains.includes(chain)).map((p) => `${scheme}://${urlHost(p.host)}:${p.port}`);
}

/** Gets a block's raw bytes at a URL: the bytes, or undefined when the peer does not have it. */
type BlockFetcher = (url: string) => Promise<Uint8Array | undefined>;

/** Block requests with a `fetch` (plain HTTP to the other peers' APIs). */
function fetchBlocks(fetchFn: typeof fetch): BlockFetcher {
  return async (url) => {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(PEER_FETCH_TIMEOUT_MS) });
    if (response.ok) return new Uint8Array(await response.arrayBuffer());
    await response.body?.cancel();
    return undefined;
  };
}

/** Block requests over mutual TLS through `agent` (it presents this peer's certificate and checks the other's). */
function mtlsBlocks(agent: Agent): BlockFetcher {
  return (url) => new Promise((resolve, reject) => {
    const req = httpsRequest(url, { agent, method: 'GET', timeout: PEER_FETCH_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      res.on('error', reject);
      res.on('end', () => { resolve(res.statusCode === 200 ? new Uint8Array(Buffer.concat(chunks)) : undefined); });
    });
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${PEER_FETCH_TIMEOUT_MS} ms`)); });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The key a chain configuration lists for a described peer: the bootstrap lists an org's i-th peer
 * of the description (in its order) as `peer<i>.<org>` with its process key.
 */
function configuredPeerKey(description: NetworkDescription, peer: DescribedPeer, local: Peer): Uint8Array | undefined {
  const index = description.peers.filter((p) => p.org === peer.org).indexOf(peer);
  const member = peerName(peer.org, index);
  for (const chain of peer.chains) {
    if (!local.chains().includes(chain)) continue;
    const found = local.config(chain).orgs[peer.org]?.members.find((m) => m.role === 'peer' && m.name === member);
    if (found !== undefined) return fromHex(found.key);
  }
  return undefined;
}

/**
 * A remote endorser for every other described peer sharing a chain with this one, reached at its
 * own `host:port` over mutual TLS.
 */
function remotePeersOf(description: NetworkDescription, me: DescribedPeer, local: Peer, tls: PeerTls, timeoutMs: number | undefined, logger?: Logger): RemotePeer[] {
  const remotes: RemotePeer[] = [];
  for (const other of description.peers) {
    if (other.name === me.name || !other.chains.some((c) => me.chains.includes(c))) continue;
    const publicKey = configuredPeerKey(description, other, local);
    if (publicKey === undefined) {
      logger?.warn({ peer: other.name }, 'no key for this peer in the chain configurations; it is not asked to endorse');
      continue;
    }
    remotes.push(createRemotePeer({
      name: other.name, org: other.org, publicKey, url: `https://${urlHost(other.host)}:${other.port}`, chains: other.chains,
      credentials: tls.credentials, membership: tls.membership, ...(timeoutMs === undefined ? {} : { timeoutMs }),
    }));
  }
  return remotes;
}

/**
 * Asks other peers for block `n` of a chain, as raw bytes; the caller checks them (peer.deliver).
 * @returns the bytes from the first peer that has the block, or undefined
 */
async function blockFromPeers(urls: readonly string[], chain: string, n: number, fetchBlock: BlockFetcher, logger?: Logger): Promise<Uint8Array | undefined> {
  for (const url of urls) {
    try {
      const bytes = await fetchBlock(`${url}/api/chains/${encodeURIComponent(chain)}/blocks/${n}/raw`);
      if (bytes !== undefined) return bytes;
    } catch (error) {
      logger?.debug({ err: error, url, chain, block: n }, 'peer did not give the block');
    }
  }
  return undefined;
}

/**
 * A chain's genesis block: from the ordering service when it holds it; from another peer when
 * blocks are ordered but block 0 is not at hand (the log compacted, or the client has not read it
 * yet); else the first block delivery brings, waited for up to `ms` (the chain is being created).
 */
async function genesisBlock(orderer: Orderer, chain: string, peerUrls: readonly string[], fetchBlock: BlockFetcher, ms: number, logger?: Logger): Promise<Uint8Array | undefined> {
  const stored = orderer.block(chain, 0);
  if (stored !== undefined) return stored;
  if (orderer.height(chain) > 0) {
    const fromPeer = await blockFromPeers(peerUrls, chain, 0, fetchBlock, logger);
    if (fromPeer !== undefined) return fromPeer;
  }
  return new Promise((done) => {
    const subscription: { stop?: () => void } = {};
    const timer = setTimeout(() => { subscription.stop?.(); done(orderer.block(chain, 0)); }, ms);
    subscription.stop = orderer.deliver(chain, 0, (bytes, number) => {
      if (number !== 0) return;
      clearTimeout(timer);
      queueMicrotask(() => subscription.stop?.());
      done(bytes);
    });
  });
}

/** Follows one chain: delivery from the ordering service, and catch-up from other peers when it stalls. */
class ChainFollower {
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastHeight = -1;
  #catchingUp = false;
  #closed = false;

  constructor(
    readonly chain: string,
    readonly peer: Peer,
    readonly orderer: Orderer,
    readonly peerUrls: readonly string[],
    readonly fetchBlock: BlockFetcher,
    readonly logger: Logger | undefined,
  ) {}

  start(): void {
    this.#subscribe();
    this.#timer = setInterval(() => { void this.#check(); }, CATCH_UP_CHECK_MS);
    this.#timer.unref();
  }

  #subscribe(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = this.orderer.deliver(this.chain, this.peer.height(this.chain), (bytes) => {
      this.peer.deliver(bytes).catch((error: unknown) => {
        if (!this.#closed) this.logger?.error({ err: error, chain: this.chain }, 'delivered block not committed');
      });
    });
  }

  /** When the height has not moved for a check period while blocks are ordered beyond it, fetch them. */
  async #check(): Promise<void> {
    if (this.#catchingUp || this.#closed) return;
    const height = this.peer.height(this.chain);
    const stalled = height === this.#lastHeight && height < this.orderer.height(this.chain);
    this.#lastHeight = height;
    if (!stalled) return;
    this.#catchingUp = true;
    try {
      const fetched = await this.catchUp();
      if (fetched > 0) {
        this.logger?.info({ chain: this.chain, fetched, height: this.peer.height(this.chain) }, 'caught up from other peers; following the ordering service again');
        this.#subscribe();
      }
    } finally {
      this.#catchingUp = false;
    }
  }

  /**
   * Commits blocks from the peer's height up to the ordered height, each from the ordering
   * service when it still holds it, else from another peer.
   * @returns how many blocks came from other peers
   */
  async catchUp(): Promise<number> {
    let fromPeers = 0;
    while (!this.#closed && this.peer.height(this.chain) < this.orderer.height(this.chain)) {
      const n = this.peer.height(this.chain);
      let bytes = this.orderer.block(this.chain, n);
      if (bytes === undefined) {
        bytes = await blockFromPeers(this.peerUrls, this.chain, n, this.fetchBlock, this.logger);
        if (bytes === undefined) {
          this.logger?.warn({ chain: this.chain, block: n }, 'block neither in the ordering log nor at any other peer; retrying');
          return fromPeers;
        }
        fromPeers++;
      }
      try {
        await this.peer.deliver(bytes);
      } catch (error) {
        // A block refused by the checks (a peer sent a forged one) is not committed; the next check retries.
        this.logger?.error({ err: error, chain: this.chain, block: n }, 'fetched block refused');
        return fromPeers;
      }
    }
    return fromPeers;
  }

  stop(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
  }
}

/**
 * Where a peer process serves the API: its own address, then the description's `api` address when
 * it fronts this peer. With the peer's TLS credentials its own address serves HTTPS with the
 * peer's certificate, asking clients for a certificate of a member CA without requiring one: a
 * connection that presents one goes to the peer-to-peer routes, any other to the API (see
 * `shareListener`). The `api` address serves HTTPS when the `api` certificate is given.
 */
function apiAddresses(description: NetworkDescription, me: DescribedPeer, tls: PeerTls | undefined, apiTls: ApiHttpsOptions | undefined): { host: string; port: number; https?: ApiHttpsOptions }[] {
  const own = { host: me.host, port: me.port, ...(tls === undefined ? {} : { https: { cert: tls.credentials.cert, key: tls.credentials.key, clientCa: tls.credentials.ca } }) };
  if (description.api.peer !== me.name) return [own];
  return [own, { host: description.api.host, port: description.api.port, ...(apiTls === undefined ? {} : { https: apiTls }) }];
}

/**
 * Starts listening on the API addresses (the peer's own first in `addresses`), the own port last:
 * readiness is asked there (the launcher, `status`), so a peer that answers ready already serves
 * its other addresses and its peer-to-peer routes.
 * @returns the URLs, in the order of `addresses`
 */
async function listenOwnPortLast(servers: readonly ApiServer[], addresses: readonly { host: string; port: number }[]): Promise<string[]> {
  const urls = new Array<string>(addresses.length);
  for (let i = addresses.length - 1; i >= 0; i--) {
    const { host, port } = addresses[i] as { host: string; port: number };
    urls[i] = await (servers[i] as ApiServer).listen({ host, port });
  }
  return urls;
}

/**
 * Opens a peer process's peer, joins and follows its chains and serves its API.
 * @throws SilkError CONFIG_INVALID (unknown peer, unreadable key), DATA_FOLDER_LOCKED (another
 *   process runs this peer), BAD_BLOCK (a genesis block that does not match the ledger on disk)
 * @example const node = await openPeerProcess({ description, name: 'peer0.org1', orderer })
 */
export async function openPeerProcess(options: PeerProcessOptions): Promise<PeerProcess> {
  const { description, logger } = options;
  const me = describedPeer(description, options.name);
  const dir = describedPath(description, me.dataDir);
  const workers = verifyWorkers(description, me, process.env['SILK_VERIFY_WORKERS']);
  const lock: DataLock = lockDataFolder(dir);
  const verifier = signatureVerifier(workers);
  let peer: Peer | undefined;
  const followers: ChainFollower[] = [];
  const servers: ApiServer[] = [];
  let metrics: ReturnType<typeof createNodeMetrics> | undefined;
  let blockAgent: Agent | undefined;
  try {
    let signer: Signer;
    const keyFile = peerKeyFile(description, me);
    try {
      signer = signerFromPem(readFileSync(keyFile, 'utf8'));
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `cannot read peer ${me.name}'s key ${keyFile}: run the bootstrap first (silk network up does)`, { file: keyFile }, { cause });
    }
    const base = options.contracts ?? DEMO_CONTRACTS;
    const contracts = base.some((c) => c.name === IDENTITY_CONTRACT) ? base : [...base, new IdentityContract()];
    peer = createPeer({ name: me.name, org: me.org, signer, dataDir: join(dir, 'ledger'), contracts, verifier, ...(logger ? { logger } : {}) });
    // With TLS, blocks come from the other peers' peer-to-peer side over mutual TLS.
    blockAgent = options.tls === undefined ? undefined : mtlsAgent({ credentials: options.tls.credentials, membership: options.tls.membership, serverRoles: ['peer'] });
    const fetchBlock = blockAgent === undefined ? fetchBlocks(options.fetch ?? fetch) : mtlsBlocks(blockAgent);
    for (const chain of me.chains) {
      const urls = otherPeerUrls(description, me, chain, blockAgent === undefined ? 'http' : 'https');
      const genesis = await genesisBlock(options.orderer, chain, urls, fetchBlock, GENESIS_WAIT_MS, logger);
      if (genesis === undefined) throw new SilkError('ORDERING_UNAVAILABLE', `no genesis block for chain ${chain}: neither the ordering service nor another peer has it (are the orderers running?)`, { chain });
      await peer.joinChain(genesis);
      followers.push(new ChainFollower(chain, peer, options.orderer, urls, fetchBlock, logger));
    }
    for (const f of followers) {
      await f.catchUp();
      f.start();
    }
    const remotePeers = options.tls === undefined ? [] : remotePeersOf(description, me, peer, options.tls, options.remoteEndorseTimeoutMs, logger);
    const endorsers: EndorsingPeer[] = [peer, ...remotePeers];
    // The description's settings (`commitTimeoutMs`, `admission`), each one left out keeping its default.
    const gateway = createGateway({ peers: endorsers, commitPeer: peer, orderer: options.orderer, ...me.gateway });
    const backend: ApiBackend = { peer, gateway, orderedHeight: (chain) => options.orderer.height(chain) };
    const urls: string[] = [];
    const rateLimitPerMinute = rateLimitOf(process.env['SILK_RATE_LIMIT']);
    const nodeMetrics = createNodeMetrics(backend);
    metrics = nodeMetrics;
    const addresses = apiAddresses(description, me, options.tls, options.apiTls);
    for (const { https } of addresses) {
      servers.push(await createApiServer({ backend, rateLimitPerMinute, plugins: [nodeMetrics.plugin], ...(https === undefined ? {} : { https }), ...(logger ? { logger } : {}) }));
    }
    // The peer-to-peer routes share the peer's own port: connections presenting a certificate reach them.
    let p2p: PeerEndorsementService | undefined;
    const own = servers[0];
    if (options.tls !== undefined && own !== undefined) {
      const { membership, refreshMembership } = options.tls;
      p2p = await openPeerEndorsementService({ peer, membership, ...(refreshMembership === undefined ? {} : { refreshMembership }), ...(logger ? { logger } : {}) });
      p2p.shareListener(own.app.server as unknown as TlsServer);
    }
    urls.push(...await listenOwnPortLast(servers, addresses));
    const opened = peer;
    let closing: Promise<void> | undefined;
    return {
      peer: opened,
      gateway,
      remotePeers,
      urls,
      ready: () => me.chains.every((c) => opened.height(c) >= options.orderer.height(c)),
      close() {
        closing ??= (async () => {
          // Peer links first: their kept-alive connections would hold the shared port open.
          await p2p?.close();
          for (const r of remotePeers) r.close();
          blockAgent?.destroy();
          await Promise.all(servers.map((s) => s.close({ drainTimeoutMs: 10_000 })));
          nodeMetrics.close();
          for (const f of followers) f.stop();
          gateway.close();
          await options.orderer.close();
          await opened.close();
          await verifier.close();
          lock.release();
        })();
        return closing;
      },
    };
  } catch (error) {
    // A failed start (a port in use, no genesis) stops what it started before the peer closes.
    for (const f of followers) f.stop();
    blockAgent?.destroy();
    await Promise.all(servers.map((s) => s.close({ drainTimeoutMs: 1_000 }).catch(() => undefined)));
    metrics?.close();
    await peer?.close();
    await verifier.close();
    lock.release();
    throw error;
  }
}

/**
 * Worker threads checking the signatures of each block (src/crypto/verify-pool.ts): the value of
 * `SILK_VERIFY_WORKERS` (0: on the main thread); by default all the machine's cores when no other
 * process of the network shares the peer's host (a peer on its own server), none when some do
 * (a whole network on one machine, where the cores already go to the other processes).
 * @throws SilkError CONFIG_INVALID for a value that is not a whole number from 0 to 64
 */
export function verifyWorkers(description: NetworkDescription, me: DescribedPeer, text: string | undefined): number {
  if (text !== undefined) {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0 || n > 64) throw new SilkError('CONFIG_INVALID', `SILK_VERIFY_WORKERS must be a whole number from 0 to 64 (0 checks signatures on the main thread); got ${JSON.stringify(text)}`);
    return n;
  }
  const others = [...description.peers.filter((p) => p.name !== me.name), ...description.orderers, ...description.etcd];
  return others.some((p) => p.host === me.host) ? 0 : availableParallelism();
}

/** The block signature checker of {@link verifyWorkers} workers (none: the main thread). */
function signatureVerifier(workers: number): SignatureVerifier {
  return workers === 0 ? createInlineVerifier() : createVerifyPool({ workers });
}

/** Requests a minute per client address on the peer's API: `SILK_RATE_LIMIT` (0 turns it off), as `silk start` reads it. */
function rateLimitOf(text: string | undefined): number {
  if (text === undefined) return 6000;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new SilkError('CONFIG_INVALID', `SILK_RATE_LIMIT must be a whole number of requests a minute (0 turns the limit off); got ${JSON.stringify(text)}`);
  return n;
}

/** Parses `--description FILE --name PEER`. @throws SilkError INVALID_ARGUMENT */
function parsePeerArgs(argv: readonly string[]): { descriptionFile: string; name: string } {
  let values: { description?: string; name?: string };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { description: { type: 'string' }, name: { type: 'string' } }, strict: true }));
  } catch (cause) {
    throw new SilkError('INVALID_ARGUMENT', `usage: peer-main --description FILE --name PEER (${(cause as Error).message})`, {}, { cause });
  }
  if (values.description === undefined || values.name === undefined) throw new SilkError('INVALID_ARGUMENT', 'usage: peer-main --description FILE --name PEER');
  return { descriptionFile: resolve(values.description), name: values.name };
}

/**
 * Mutual TLS when the peer's certificate files exist: to the orderers (they then serve mutual TLS
 * too) and between the peers. The peer's credentials, and a membership built from the chains'
 * genesis configurations and the processes the description lists now (an orderer added to the
 * running network is trusted, one removed no longer), so only registered processes of member
 * orgs are trusted.
 */
function processTls(description: NetworkDescription, me: DescribedPeer, descriptionFile: string, watch: NetworkDescriptionWatch): PeerTls | undefined {
  const files = processTlsFiles(describedPath(description, me.dataDir), 'peer');
  if (files === undefined) return undefined;
  const configs = description.chains.map((c) => {
    const file = genesisFile(description, c.name);
    try {
      return configOfTransaction(decodeTransaction(new Uint8Array(readFileSync(file))));
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `cannot read the genesis configuration of ${c.name} at ${file}: run the bootstrap first (silk network up does)`, { file }, { cause });
    }
  });
  const adminKeys = adminKeysOfChains(configs);
  return {
    credentials: readTlsCredentials(files),
    membership: liveTlsMembership((fresh) => watch.current(fresh), adminKeys),
    // The description file as it is now: a peer added since (silk network add-peer) is registered there.
    refreshMembership: () => tlsMembershipOfNetwork(readNetworkDescription(descriptionFile), adminKeys),
  };
}

/**
 * The certificate and key of the description's `api` address: `tls/api.crt` and `api.key` under
 * the API's data folder, with the CA bundle beside them, as the bootstrap writes them; undefined
 * when there are none (the address then stays plain HTTP).
 * @throws SilkError CONFIG_INVALID when only some of the files exist or one cannot be read
 */
function apiHttps(description: NetworkDescription): ApiHttpsOptions | undefined {
  const files = processTlsFiles(describedPath(description, description.api.dataDir), 'api');
  if (files === undefined) return undefined;
  const { cert, key } = readTlsCredentials(files);
  return { cert, key };
}

/** Runs a peer process until SIGTERM or SIGINT. @returns the exit code */
async function main(argv: readonly string[]): Promise<number> {
  const { descriptionFile, name } = parsePeerArgs(argv);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { peer: name } }, pino.destination(2));
  const stop = new Promise<NodeJS.Signals>((done) => {
    process.once('SIGTERM', () => { done('SIGTERM'); });
    process.once('SIGINT', () => { done('SIGINT'); });
  });
  const watch = watchNetworkDescription(descriptionFile);
  const description = watch.current();
  const me = describedPeer(description, name);
  const tls = processTls(description, me, descriptionFile, watch);
  const scheme = tls === undefined ? 'http' : 'https';
  // The orderers as the description lists them now (silk network orderer add | remove), one list per version of it.
  const ordererLists = new WeakMap<NetworkDescription, { name: string; url: string }[]>();
  const orderersNow = (): { name: string; url: string }[] => {
    const d = watch.current();
    let list = ordererLists.get(d);
    if (list === undefined) {
      list = d.orderers.map((o) => ({ name: o.name, url: `${scheme}://${urlHost(o.host)}:${o.port}` }));
      ordererLists.set(d, list);
    }
    return list;
  };
  // Loaded here, so openPeerProcess can run over any Orderer without the etcd client.
  const { openEtcdOrdererClient } = await import('./etcd-orderer-client.js');
  const { followDescribedEtcdMembers } = await import('./etcd-members-followed.js');
  const dataDir = describedPath(description, me.dataDir);
  const etcdTls = processTlsFiles(dataDir, 'etcd-client');
  const apiTls = description.api.peer === name ? apiHttps(description) : undefined;
  const orderer = await openEtcdOrdererClient({
    // The members the description lists now: an etcd member added or removed is followed without a restart.
    etcd: { ...followDescribedEtcdMembers(watch, { tls: etcdTls !== undefined, dataDir, logger }), ...(etcdTls === undefined ? {} : { tls: etcdTls }) },
    orderers: orderersNow,
    chains: me.chains,
    ...(tls === undefined ? {} : { tls }),
    logger,
  });
  const node = await openPeerProcess({ description, name, orderer, logger, ...(tls === undefined ? {} : { tls }), ...(apiTls === undefined ? {} : { apiTls }) });
  logger.info({ urls: node.urls, chains: Object.fromEntries(me.chains.map((c) => [c, node.peer.height(c)])), endorsers: node.remotePeers.map((r) => r.name) }, 'peer serving');
  const signal = await stop;
  logger.info({ signal }, 'stopping: draining the API, then closing the ledgers');
  await node.close();
  logger.info('stopped cleanly');
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      process.stderr.write(`peer-main: ${isSilkError(error) ? `${error.code}: ${error.message}` : ((error as Error).stack ?? String(error))}\n`);
      process.exitCode = 1;
    },
  );
}
