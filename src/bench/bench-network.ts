/**
 * The system under test for one workload: a fresh embedded network (three orgs, one peer each,
 * signature checks on the worker pool) in a temporary folder, a commit tracker on every peer,
 * and a starter that sends one transaction through a rotating org's gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicContract } from '../contracts/basic/basic-contract.js';
import type { Signer } from '../crypto/p256.js';
import { CommitError, SilkError } from '../errors.js';
import type { AdmissionOptions } from '../gateway/admission.js';
import type { Gateway } from '../gateway/gateway.js';
import type { SignedProposal } from '../ledger/proposal.js';
import { openEmbeddedNetwork, type EmbeddedNetwork } from '../network/embedded-network.js';
import { createCommitTracker, type CommitTracker, type TxOutcome } from './commit-tracker.js';
import { BENCH_CHAIN, BENCH_ORGS, BENCH_USER, benchNetworkSpec, createArgsGenerator, type ArgsGenerator, type KvArgs, type Workload } from './workloads.js';

/** A running bench network. */
export interface BenchNetwork {
  readonly workload: Workload;
  readonly net: EmbeddedNetwork;
  readonly tracker: CommitTracker;
  /** Committing peers (P in the verify formula). */
  readonly peerCount: number;
  /**
   * Starts one transaction now (signs, endorses and hands it to ordering through the next org's
   * gateway); `onDone` runs when every peer committed it or it failed.
   * @param args the call's arguments (default: the workload's next draw)
   * @param route `gateway` (default): `submitSigned`, the client path, which also waits for the
   *   commit and builds a receipt; `direct`: endorse through the gateway, then broadcast to the
   *   orderer without waiting (for the untimed preload)
   */
  start(onDone: (o: TxOutcome, startedAt: number) => void, args?: KvArgs, route?: 'gateway' | 'direct'): void;
  /** Proposals signed so far (client signatures). */
  proposals(): number;
  /** A proposal as the workload sends it, signed but not submitted. */
  sampleProposal(): { gateway: Gateway; signed: SignedProposal };
  readonly args: ArgsGenerator;
  /** Verify calls so far on the main thread and in the verify pool. */
  verifyCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens a fresh network for a workload.
 * @param w the workload (its policy goes into the chain's genesis configuration)
 * @param seed seed of the key/value generator
 * @param admission the gateways' admission control (default: the gateway's defaults)
 */
export async function openBenchNetwork(w: Workload, seed: number, admission?: AdmissionOptions): Promise<BenchNetwork> {
  const dir = mkdtempSync(join(tmpdir(), `silk-bench-${w.name}-`));
  let net: EmbeddedNetwork;
  try {
    net = await openEmbeddedNetwork({ dataDir: dir, spec: benchNetworkSpec(w), contracts: [new BasicContract()], parallelVerify: true, commitTimeoutMs: 120_000, ...(admission === undefined ? {} : { admission }) });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const tracker = createCommitTracker(net.peers, BENCH_CHAIN);
  const clients = BENCH_ORGS.map((org) => ({ gateway: net.gateway(org), signer: net.identity(org, BENCH_USER) }));
  const args = createArgsGenerator(w, seed);
  let rotation = 0;
  let proposals = 0;

  const nextClient = (): { gateway: Gateway; signer: Signer } => clients[rotation++ % clients.length]!;
  const propose = (gateway: Gateway, signer: Signer, a: KvArgs): SignedProposal => {
    proposals++;
    return gateway.propose({ chain: BENCH_CHAIN, contract: 'basic', fn: w.fn, args: a }, signer);
  };

  return {
    workload: w,
    net,
    tracker,
    peerCount: net.peers.length,
    args,
    start(onDone, a = args.next(), route = 'gateway') {
      const startedAt = performance.now();
      const { gateway, signer } = nextClient();
      let signed: SignedProposal;
      try {
        signed = propose(gateway, signer, a);
      } catch (e) {
        onDone({ valid: false, ordered: false, doneAt: performance.now(), code: e instanceof SilkError ? e.code : 'INTERNAL' }, startedAt);
        return;
      }
      const txId = signed.txId;
      tracker.track(txId, (o) => { onDone(o, startedAt); });
      const refused = (e: unknown): void => {
        // A commit-stage error means the tx reached a block: the tracker reports it from there.
        if (e instanceof CommitError) return;
        if (!(e instanceof SilkError)) tracker.fail(txId, 'INTERNAL');
        else tracker.fail(txId, e.code, typeof e.details.retryAfterSeconds === 'number' ? e.details.retryAfterSeconds : undefined);
      };
      if (route === 'gateway') {
        gateway.submitSigned(signed).catch(refused);
        return;
      }
      try {
        net.orderer.broadcast(BENCH_CHAIN, gateway.endorse(signed).envelope).catch(refused);
      } catch (e) {
        refused(e);
      }
    },
    proposals: () => proposals,
    sampleProposal() {
      const { gateway, signer } = nextClient();
      return { gateway, signed: propose(gateway, signer, args.next()) };
    },
    verifyCount: () => net.verifier.verifyCount(),
    async close() {
      tracker.close();
      await net.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
