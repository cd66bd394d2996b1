'use strict';
// The sales dataset: parsed once at start-up into plain objects, aggregated
// per request with plain JavaScript (the contract's "/data" endpoint). Parsed
// only when BAKEOFF_DATA is set; /data answers 503 with NOT_LOADED otherwise.

const fs = require('node:fs');

const COLUMNS = ['region', 'product', 'units', 'unit_price'];
const NOT_LOADED = 'BAKEOFF_DATA is not set: this launch has no sales dataset';

function load(path) {
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  const header = lines[0].trim().split(',');
  const index = {};
  for (const column of COLUMNS) {
    index[column] = header.indexOf(column);
    if (index[column] < 0) throw new Error(`${path}: header has no "${column}" column`);
  }
  const rows = [];
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i].trim();
    if (line === '') continue;
    const fields = line.split(',');
    const row = {
      region: fields[index.region],
      product: fields[index.product],
      units: Number(fields[index.units]),
      unitPrice: Number(fields[index.unit_price]),
    };
    if (!row.region || !row.product || !Number.isFinite(row.units) || !Number.isFinite(row.unitPrice)) {
      throw new Error(`${path}:${i + 1}: malformed row ${JSON.stringify(line)}`);
    }
    rows.push(row);
  }
  return { rows, regions: new Set(rows.map((r) => r.region)) };
}

function aggregate(dataset, region) {
  const groups = new Map();
  for (const row of dataset.rows) {
    if (row.region !== region) continue;
    let g = groups.get(row.product);
    if (g === undefined) {
      g = { product: row.product, count: 0, units: 0, revenue: 0, priceSum: 0 };
      groups.set(row.product, g);
    }
    g.count += 1;
    g.units += row.units;
    g.revenue += row.units * row.unitPrice;
    g.priceSum += row.unitPrice;
  }
  const products = [...groups.values()].map((g) => ({
    product: g.product,
    count: g.count,
    units: g.units,
    revenue: g.revenue,
    mean_unit_price: g.priceSum / g.count,
  }));
  products.sort((a, b) => b.revenue - a.revenue || (a.product < b.product ? -1 : a.product > b.product ? 1 : 0));
  return { region, products };
}

module.exports = { load, aggregate, NOT_LOADED };
