// One request example per capability, as the OpenAPI document shows them (named examples of POST /jobs
// and POST /schedules). test/openapi-contract.test.ts posts each one to the running service, so an
// example the API would refuse fails a test instead of misleading an integrator.

/** An OpenAPI Example Object: a short title and the request body. */
export interface RequestExample {
  summary: string;
  value: Record<string, unknown>;
}

const ukPrice = 'public.uk_price';

export const jobExamples: Record<string, RequestExample> = {
  csvFromS3: {
    summary: 'One CSV object from S3 (no header, the price-paid layout)',
    value: { source: { url: 's3://landing/price-paid/pp-2023.csv' }, format: { header: false }, target: { table: ukPrice }, maxErrors: 0 },
  },
  sparkPrefix: {
    summary: "A Spark job's output: the part files below a prefix, once _SUCCESS is there",
    value: {
      source: { url: 's3://landing/spark/pp-2023/', pattern: 'part-*.csv*', waitForMarker: '_SUCCESS' },
      format: { header: true },
      target: { table: ukPrice },
      concurrency: 4,
    },
  },
  parquet: {
    summary: 'Parquet part files, fields mapped to table columns by name',
    value: {
      source: { url: 's3://landing/spark/pp-2023-parquet/', pattern: 'part-*.parquet' },
      format: { type: 'parquet' },
      target: { table: ukPrice, columns: { transaction_id: 'transaction_unique_identifier', price: 'price' } },
    },
  },
  merge: {
    summary: 'Monthly change files merged by key (A and C upsert, D deletes)',
    value: {
      source: { url: 's3://landing/price-paid/monthly/' },
      target: { table: ukPrice },
      mode: 'merge',
      key: ['transaction_unique_identifier'],
      operation: { column: 'record_status', delete: ['D'], upsert: ['A', 'C'] },
    },
  },
  chunked: {
    summary: 'A large object cut into 64 MiB chunks over 4 COPY streams, each chunk committed on its own',
    value: { source: { url: 's3://landing/price-paid/pp-complete.csv' }, target: { table: ukPrice }, atomicity: 'chunk', chunkBytes: 64 * 1024 * 1024, streams: 4 },
  },
};

export const scheduleExamples: Record<string, RequestExample> = {
  nightly: {
    summary: 'Every night at 03:00 London time, the new files below a prefix (the ledger skips the loaded ones)',
    value: { name: 'price-paid-nightly', cron: '0 3 * * *', timezone: 'Europe/London', job: { source: { url: 's3://landing/price-paid/monthly/' }, target: { table: ukPrice } } },
  },
};
