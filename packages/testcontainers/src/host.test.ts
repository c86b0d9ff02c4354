import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectHost } from './host.ts';

describe('connectHost', () => {
  it('reaches ports published on one address at that address, not at the bridge gateway testcontainers names from inside a container', () => {
    assert.equal(connectHost('172.17.0.1', '127.0.0.1'), '127.0.0.1');
    assert.equal(connectHost('localhost', '127.0.0.1'), '127.0.0.1');
    assert.equal(connectHost('docker.example.test', '10.0.0.5'), '10.0.0.5');
  });

  it('reaches ports published on every address at the host testcontainers names', () => {
    assert.equal(connectHost('172.17.0.1', '0.0.0.0'), '172.17.0.1');
    assert.equal(connectHost('docker.example.test', '::'), 'docker.example.test');
    assert.equal(connectHost('localhost', '0.0.0.0'), 'localhost');
  });
});
