import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { NODE_SILENT_REASON } from '../liveness/liveness-monitor.js';
import { checkOrdererAlive, HEALTH_PATH, ordererLivenessMonitor, postBroadcastBatch, postJson } from './orderer-wire.js';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function rejectsUnreachable(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => isSilkError(e, 'UNREACHABLE') && message.test(e.message));
}

describe('orderer wire: giving up on a silent orderer', () => {
  /** Answers its health check (when `healthy`) and never a broadcast. */
  let silent: Server;
  let silentUrl: string;
  let healthy = true;
  const asked: string[] = [];
  before(async () => {
    silent = createServer((req, res) => {
      asked.push(`${req.method ?? ''} ${req.url ?? ''}`);
      if (req.url === HEALTH_PATH && healthy) res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    });
    silentUrl = await listen(silent);
  });
  after(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives a POST up when its signal aborts, with the reason', async () => {
    const controller = new AbortController();
    const pending = postJson(silentUrl, '/orderer/v1/broadcast', { chain: 'trade', envelope: 'AA==' }, { timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => { controller.abort(new Error('gave no answer, nor to a health check')); }, 50);
    await rejectsUnreachable(pending, /gave no answer, nor to a health check/);
    const aborted = AbortSignal.abort(new Error('given up before it was sent'));
    await rejectsUnreachable(postBroadcastBatch(silentUrl, { chain: 'trade', envelopes: [new Uint8Array([1])] }, { timeoutMs: 60_000, signal: aborted }), /given up before it was sent/);
  });

  it('checks an orderer alive by any answer to its health route, and not by a connection alone', async () => {
    healthy = true;
    await checkOrdererAlive(silentUrl, { timeoutMs: 1_000 });
    healthy = false;
    await rejectsUnreachable(checkOrdererAlive(silentUrl, { timeoutMs: 200 }), /did not answer a health check within 200 ms/);
  });

  it('watches the orderer a POST waits on: a live one is waited for, a silent one is given up', async () => {
    const liveness = ordererLivenessMonitor();
    healthy = false;
    const began = Date.now();
    await assert.rejects(liveness.during(silentUrl, (signal) => postJson(silentUrl, '/orderer/v1/broadcast', {}, { timeoutMs: 60_000, signal })),
      (e: unknown) => isSilkError(e, 'UNREACHABLE') && e.details.reason === NODE_SILENT_REASON && /nor to a health check within 1000 ms/.test(e.message));
    assert.ok(Date.now() - began < 30_000, 'given up long before its time limit');
    assert.equal(liveness.silentNow(silentUrl), true);
    // A live orderer is not given up: the POST runs to its own time limit.
    healthy = true;
    const live = ordererLivenessMonitor();
    await rejectsUnreachable(live.during(silentUrl, (signal) => postJson(silentUrl, '/orderer/v1/broadcast', {}, { timeoutMs: 2_500, signal })), /did not answer within 2500 ms/);
    assert.ok(asked.filter((a) => a === `GET ${HEALTH_PATH}`).length >= 2, asked.join(', '));
  });
});
