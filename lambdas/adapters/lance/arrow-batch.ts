// Builds one Arrow table per PutVectors request straight from typed arrays: the vector column
// wraps the request's Float32Array without copying it value by value.
import * as arrow from 'apache-arrow';
import type { Metadata, VectorBatch } from '../../core/ports';
import { metadataColumns, metadataFields } from './metadata-columns';
import { segmentOf } from './segments';
import { utf8Data } from './utf8-columns';

export function tableSchema(dimension: number): arrow.Schema {
  return new arrow.Schema([
    new arrow.Field('key', new arrow.Utf8(), false),
    new arrow.Field('vector', new arrow.FixedSizeList(dimension, new arrow.Field('item', new arrow.Float32(), true)), false),
    new arrow.Field('segment', new arrow.Int32(), false),
    new arrow.Field('metadata', new arrow.Utf8(), true),
    ...metadataFields(),
  ]);
}

export function batchTable(schema: arrow.Schema, dimension: number, batch: VectorBatch, nonFilterableKeys: ReadonlySet<string>): arrow.Table {
  const rows = batch.keys.length;
  const vectorType = schema.fields[1].type as arrow.FixedSizeList;
  const values = arrow.makeData({ type: new arrow.Float32(), length: rows * dimension, nullCount: 0, data: batch.data });
  const segments = Int32Array.from(batch.keys, segmentOf);
  const columns: Record<string, arrow.Data> = {
    key: utf8Data(batch.keys),
    vector: arrow.makeData({ type: vectorType, length: rows, nullCount: 0, child: values }),
    segment: arrow.makeData({ type: new arrow.Int32(), length: rows, nullCount: 0, data: segments }),
    metadata: utf8Data(batch.metadata.map((m: Metadata | undefined) => (m === undefined ? null : JSON.stringify(m)))),
  };
  for (const [name, vector] of Object.entries(metadataColumns(batch.metadata, nonFilterableKeys))) {
    if (vector.data.length !== 1) throw new Error(`metadata column ${name} must be one chunk`);
    columns[name] = vector.data[0];
  }
  const children = schema.fields.map((field) => {
    const data = columns[field.name];
    if (!data) throw new Error(`no column built for ${field.name}`);
    return data;
  });
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows, nullCount: 0, children });
  return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
}
