// A deterministic sample product catalogue for the `npm start` demo, tests and benchmarks.
// Each row depends only on (seed, id), so any id range can be generated independently and the
// same seed always gives the same catalogue.
import type { StoreClient } from '../../packages/worker/src/store/client.js';

export interface Product {
  id: number;
  title: string;
  category: string;
  brand: string;
  price: number;
  rating: number;
  in_stock: boolean;
  stock: number;
  tags: string[];
  [key: string]: unknown;
}

const CATEGORIES = [
  'books',
  'electronics',
  'garden',
  'grocery',
  'home',
  'music',
  'outdoors',
  'sports',
  'toys',
  'tools',
] as const;
const BRANDS = [
  'Acme',
  'Borealis',
  'Cobalt',
  'Dune',
  'Ember',
  'Fjord',
  'Granite',
  'Harbor',
  'Iris',
  'Juniper',
  'Kestrel',
  'Lumen',
];
const ADJECTIVES = [
  'Compact',
  'Deluxe',
  'Eco',
  'Classic',
  'Smart',
  'Portable',
  'Rugged',
  'Vintage',
  'Ultra',
  'Everyday',
  'Quiet',
  'Bright',
];
const NOUNS: Record<(typeof CATEGORIES)[number], string[]> = {
  books: ['Novel', 'Cookbook', 'Atlas', 'Field Guide', 'Anthology'],
  electronics: ['Headphones', 'Charger', 'Speaker', 'Keyboard', 'Monitor'],
  garden: ['Trowel', 'Planter', 'Hose', 'Seed Kit', 'Shears'],
  grocery: ['Coffee', 'Olive Oil', 'Tea', 'Granola', 'Honey'],
  home: ['Lamp', 'Blanket', 'Kettle', 'Vase', 'Clock'],
  music: ['Guitar Strings', 'Vinyl', 'Metronome', 'Ukulele', 'Capo'],
  outdoors: ['Tent', 'Lantern', 'Backpack', 'Sleeping Bag', 'Compass'],
  sports: ['Ball', 'Racket', 'Yoga Mat', 'Jump Rope', 'Helmet'],
  toys: ['Puzzle', 'Kite', 'Robot', 'Blocks', 'Board Game'],
  tools: ['Hammer', 'Drill', 'Wrench', 'Level', 'Tape Measure'],
};
const TAGS = ['new', 'sale', 'gift', 'bestseller', 'eco', 'limited', 'bundle', 'refurbished'];

/** mulberry32 over a 32-bit state: small, fast, and the same everywhere (also the chaos run's). */
export function rng(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mix(seed: number, id: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ id;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A UUID (version-4 shaped, lower-case) derived from an integer id and the seed: the same
 * catalogue keyed the way many real namespaces are, for figures that depend on id size.
 */
export function uuidForId(id: number, seed = 1): string {
  const hex = [1, 2, 3, 4]
    .map((k) =>
      mix(seed + k, id)
        .toString(16)
        .padStart(8, '0'),
    )
    .join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The product with this id in the catalogue for `seed`. */
function productRow(id: number, seed = 1): Product {
  const r = rng(mix(seed, id));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const category = pick(CATEGORIES);
  const brand = pick(BRANDS);
  const tags = TAGS.filter(() => r() < 0.2);
  return {
    id,
    title: `${brand} ${pick(ADJECTIVES)} ${pick(NOUNS[category])}`,
    category,
    brand,
    price: Math.round((1 + r() * 499) * 100) / 100,
    rating: Math.round((1 + r() * 4) * 10) / 10,
    in_stock: r() < 0.8,
    stock: Math.floor(r() * 1000),
    tags,
  };
}

/** Products with ids startId … startId+count-1. */
export function generateProducts(count: number, seed = 1, startId = 1): Product[] {
  const out: Product[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = productRow(startId + i, seed);
  return out;
}

export interface SeedOptions {
  namespace: string;
  rows: number;
  seed?: number;
  /** integer ids 1…rows (default), or UUID strings derived from them (uuidForId). */
  idKind?: 'integer' | 'uuid';
  batchSize?: number;
  onBatch?: (written: number) => void;
}

/** Upserts the catalogue into `namespace` in batches through the store client. */
export async function seedProducts(client: StoreClient, opts: SeedOptions): Promise<number> {
  const batch = opts.batchSize ?? 5_000;
  let written = 0;
  for (let start = 1; start <= opts.rows; start += batch) {
    const n = Math.min(batch, opts.rows - start + 1);
    const rows = generateProducts(n, opts.seed ?? 1, start);
    await client.upsertRows(
      opts.namespace,
      opts.idKind === 'uuid'
        ? rows.map((r) => ({ ...r, id: uuidForId(r.id as number, opts.seed ?? 1) }))
        : rows,
    );
    written += n;
    opts.onBatch?.(written);
  }
  return written;
}
