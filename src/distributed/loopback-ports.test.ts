import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { findFreePortRange, firstEphemeralPort, freePort, portIsFree } from './loopback-ports.js';

async function listenOn(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  return server;
}

describe('loopback ports for launched processes', () => {
  it('hands out bindable ports below the ephemeral range, never the same one twice', async () => {
    const top = firstEphemeralPort();
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length, 'no port handed out twice');
    for (const port of ports) assert.ok(port >= 10_000 && port < top, `${port} lies below the ephemeral range starting at ${top}`);
    const servers = await Promise.all(ports.slice(0, 5).map(listenOn));
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('finds consecutive free ports, tells a taken port from a free one, and refuses a bad count', async () => {
    const base = await findFreePortRange(5);
    for (let port = base; port < base + 5; port++) assert.equal(await portIsFree('127.0.0.1', port), true);
    const taken = await listenOn(base + 2);
    try {
      assert.equal(await portIsFree('127.0.0.1', base + 2), false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    await assert.rejects(findFreePortRange(0), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(findFreePortRange(1.5), { code: 'INVALID_ARGUMENT' });
  });
});
