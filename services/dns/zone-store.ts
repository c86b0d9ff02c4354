/**
 * The lab zones in memory, indexed by owner name. Loaded once from `<zone>.zone` files;
 * in `loopback` mode every A record on the compose network (172.28.0.X) is served as its
 * loopback twin via `toLoopback`, the lab's only mapping rule; in `{ network }` mode (the
 * testcontainers module's labs, each on a /24 of its own) as the same host number on that
 * network: 172.28.0.20 is 172.28.7.20 on 172.28.7.0/24.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { toLoopback } from '../../shared/lab.ts';
import { parseZone, type Zone, type ZoneRecord } from './zone.ts';

/** `network`: the first three octets of the /24 the lab runs on (`172.28.7`). */
export type AddressMode = 'loopback' | 'compose' | { network: string };

const COMPOSE_PREFIX = '172.28.';
/** The compose network's /24 (shared/lab.ts COMPOSE_SUBNET), the one a `{ network }` lab moves. */
const COMPOSE_NETWORK = '172.28.0.';

export type NameLookup =
  | { kind: 'refused' }
  | { kind: 'nxdomain'; zone: Zone }
  | { kind: 'found'; zone: Zone; records: ZoneRecord[] };

export class ZoneStore {
  readonly zones: readonly Zone[];
  readonly #byName = new Map<string, ZoneRecord[]>();
  /** Names that exist only because a descendant exists (RFC 4592 §2.2.2 empty non-terminals). */
  readonly #emptyNonTerminals = new Set<string>();

  constructor(zones: Zone[]) {
    const origins = new Set<string>();
    for (const zone of zones) {
      if (origins.has(zone.origin)) throw new Error(`zone ${zone.origin} is defined twice`);
      origins.add(zone.origin);
    }
    this.zones = [...zones].sort((a, b) => b.origin.length - a.origin.length);
    for (const zone of this.zones) {
      for (const record of zone.records) {
        const list = this.#byName.get(record.name) ?? [];
        list.push(record);
        this.#byName.set(record.name, list);
        for (let parent = parentOf(record.name); parent !== undefined && parent.length > zone.origin.length; parent = parentOf(parent)) {
          this.#emptyNonTerminals.add(parent);
        }
      }
    }
  }

  /** The most specific zone that holds `name`, if any. */
  zoneOf(name: string): Zone | undefined {
    const lower = name.toLowerCase().replace(/\.$/, '');
    return this.zones.find((zone) => lower === zone.origin || lower.endsWith(`.${zone.origin}`));
  }

  lookup(name: string): NameLookup {
    const lower = name.toLowerCase().replace(/\.$/, '');
    const zone = this.zoneOf(lower);
    if (zone === undefined) return { kind: 'refused' };
    const records = this.#byName.get(lower);
    if (records !== undefined) return { kind: 'found', zone, records };
    if (this.#emptyNonTerminals.has(lower)) return { kind: 'found', zone, records: [] };
    return { kind: 'nxdomain', zone };
  }
}

function parentOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot === -1 ? undefined : name.slice(dot + 1);
}

/** Applies the address mode to one record (only compose-network A records change). */
export function mapRecord(record: ZoneRecord, mode: AddressMode): ZoneRecord {
  if (mode === 'compose' || record.type !== 'A' || !record.data.startsWith(COMPOSE_PREFIX)) return record;
  if (mode === 'loopback') return { ...record, data: toLoopback(record.data) };
  if (!record.data.startsWith(COMPOSE_NETWORK)) return record;
  return { ...record, data: `${mode.network}.${record.data.slice(COMPOSE_NETWORK.length)}` };
}

/** Loads every `<zone>.zone` file of `dir`; the file name is the zone's initial $ORIGIN. */
export async function loadZones(dir: string, mode: AddressMode): Promise<ZoneStore> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.zone')).sort();
  if (files.length === 0) throw new Error(`no *.zone files in ${dir}`);
  const zones: Zone[] = [];
  for (const file of files) {
    // latin1 keeps every byte of TXT strings as written; names are ASCII.
    const text = await readFile(path.join(dir, file), 'latin1');
    const zone = parseZone(text, { origin: `${file.slice(0, -'.zone'.length)}.`, file });
    zones.push({ ...zone, records: zone.records.map((record) => mapRecord(record, mode)) });
  }
  return new ZoneStore(zones);
}
