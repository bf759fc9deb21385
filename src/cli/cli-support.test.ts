/** The API port and address the CLI takes from its flags and the environment. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { apiPort, apiUrl, DEFAULT_API_PORT, portOf, UsageError } from './cli-support.js';

const VARIABLES = ['PORT', 'SILK_PORT', 'SILK_URL'] as const;

describe('the API port and URL', () => {
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = Object.fromEntries(VARIABLES.map((v) => [v, process.env[v]]));
    for (const v of VARIABLES) Reflect.deleteProperty(process.env, v);
  });
  afterEach(() => {
    for (const v of VARIABLES) {
      if (saved[v] === undefined) Reflect.deleteProperty(process.env, v);
      else process.env[v] = saved[v];
    }
  });

  it('takes --port, then $SILK_PORT, then $PORT, then 8080', () => {
    assert.equal(apiPort({}), DEFAULT_API_PORT);
    process.env.PORT = '9000';
    assert.equal(apiPort({}), 9000);
    process.env.SILK_PORT = '9100';
    assert.equal(apiPort({}), 9100);
    assert.equal(apiPort({ port: '0' }), 0);
  });

  it('the CLI talks to the port the node would serve on, unless given a URL', () => {
    assert.equal(apiUrl({}), `http://127.0.0.1:${DEFAULT_API_PORT}`);
    process.env.PORT = '9000';
    assert.equal(apiUrl({}), 'http://127.0.0.1:9000');
    process.env.SILK_URL = 'https://node.example:7443/';
    assert.equal(apiUrl({}), 'https://node.example:7443');
    assert.equal(apiUrl({ url: 'http://10.0.0.5:8080//' }), 'http://10.0.0.5:8080');
  });

  it('refuses what is not a port number, naming the setting', () => {
    assert.equal(portOf('65535', '--port'), 65535);
    assert.equal(portOf(' 80 ', '--port'), 80);
    for (const bad of ['', ' ', '65536', '-1', '80.5', '0x50', '1e3', 'http']) {
      assert.throws(() => portOf(bad, '$PORT'), (e: unknown) => e instanceof UsageError && e.message === `$PORT must be a port number 0..65535, got '${bad}'`, bad);
    }
    process.env.PORT = 'eighty';
    assert.throws(() => apiUrl({}), (e: unknown) => e instanceof UsageError && e.message === "$PORT must be a port number 0..65535, got 'eighty'");
    process.env.SILK_PORT = '70000';
    assert.throws(() => apiPort({}), (e: unknown) => e instanceof UsageError && e.message === "$SILK_PORT must be a port number 0..65535, got '70000'");
    assert.throws(() => apiPort({ port: 'x' }), (e: unknown) => e instanceof UsageError && e.message === "--port must be a port number 0..65535, got 'x'");
  });
});
