// The console in a real browser (Debian's chromium driven by puppeteer-core) against the real
// server with authentication on: sign-in, buckets, indexes, vectors, a filtered query, errors.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { TEST_CREDENTIALS } from '../helpers/service';
import { startConsoleService } from './console-server';

const CHROMIUM = process.env.S3V_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', '..', '.tmp', 'console-shots');

jest.setTimeout(300_000);

// Page functions run in the browser; the test program is type-checked without the DOM library.
declare const document: any, sessionStorage: any;

let server: Awaited<ReturnType<typeof startConsoleService>>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  mkdirSync(SHOTS, { recursive: true });
  server = await startConsoleService();
  // Generous waits: chromium on a loaded 2-core machine can take seconds per step.
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, timeout: 120_000, args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--window-size=1280,900'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.setDefaultTimeout(60_000);
  page.on('request', (request) => requested.push(request.url()));
  page.on('console', (message) => message.type() === 'error' && pageErrors.push(message.text()));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
});

// Everything the page loads or calls, to show it needs nothing but its own origin (works offline).
const requested: string[] = [];
// Script errors and content-security-policy violations the page reports (expected errors aside).
const pageErrors: string[] = [];

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function textOf(selector: string): Promise<string> {
  await page.waitForSelector(selector);
  return page.$eval(selector, (el: any) => el.innerText);
}

async function waitForText(selector: string, text: string): Promise<void> {
  await page.waitForFunction(
    (s: string, t: string) => [...document.querySelectorAll(s)].some((el: any) => el.innerText.includes(t)),
    {},
    selector,
    text,
  );
}

async function fill(selector: string, value: string): Promise<void> {
  await page.waitForSelector(selector);
  await page.$eval(selector, (el: any) => (el.value = ''));
  await page.type(selector, value);
}

async function signIn(secret: string): Promise<void> {
  await fill('#signin input[name=accessKeyId]', TEST_CREDENTIALS.accessKeyId);
  await fill('#signin input[name=secretAccessKey]', secret);
  await page.click('#signin button[type=submit]');
}

test('sign in, buckets, indexes, vectors, a filtered query and the errors', async () => {
  const started = Date.now();
  await page.goto(`${server.url}/console`);
  await page.waitForSelector('#signin');

  // A wrong secret: the server's 403 with its AWS code and message, and no way in.
  await signIn('not-the-secret');
  await waitForText('.error', 'InvalidSignatureException');
  const denied = await textOf('.error');
  expect(denied).toContain('HTTP 403');
  expect(denied).toContain('The request signature we calculated does not match');
  await shot('01-wrong-secret');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

  await signIn(TEST_CREDENTIALS.secretAccessKey);
  await waitForText('#whoami', TEST_CREDENTIALS.accessKeyId);
  // The empty state says what to do next, for this endpoint.
  await waitForText('.empty', 'create_vector_bucket');
  expect(await textOf('.empty')).toContain(`endpoint_url="${server.url}"`);
  // The keys live in sessionStorage only: no cookie.
  expect(await page.evaluate(() => document.cookie)).toBe('');

  // Create a bucket (a bad name is refused before sending).
  await fill('#create-bucket input[name=bucketName]', 'Bad_Name');
  await page.click('#create-bucket button[type=submit]');
  await waitForText('#create-bucket .problem', 'lowercase');
  await fill('#create-bucket input[name=bucketName]', 'media');
  await page.click('#create-bucket button[type=submit]');
  await page.waitForSelector('#buckets tr[data-bucket="media"]');
  // Creating it again: the server's ConflictException.
  await fill('#create-bucket input[name=bucketName]', 'media');
  await page.click('#create-bucket button[type=submit]');
  await waitForText('.error', 'ConflictException');
  await shot('02-buckets');

  // Its indexes: the form checks the model's constraints first.
  await page.click('#buckets tr[data-bucket="media"] a');
  await waitForText('h1', 'Indexes of media');
  await waitForText('.empty', 'create_index');
  await fill('#create-index input[name=indexName]', 'films');
  await fill('#create-index input[name=dimension]', '5000');
  await page.click('#create-index button[type=submit]');
  await waitForText('ul.problem', 'from 1 to 4096');
  await fill('#create-index input[name=dimension]', '3');
  await page.select('#create-index select[name=distanceMetric]', 'euclidean');
  await fill('#create-index input[name=nonFilterable]', 'note');
  await page.click('#create-index button[type=submit]');
  await page.waitForSelector('#indexes tr[data-index="films"]');
  const row = await textOf('#indexes tr[data-index="films"]');
  for (const part of ['3', 'float32', 'euclidean', 'ENHANCED', 'note']) expect(row).toContain(part);
  await shot('03-indexes');

  // Vectors put through the SDK show up in the console.
  const genres = ['drama', 'comedy', 'drama', 'drama', 'comedy', 'horror', 'drama', 'comedy'];
  await server.client.send(
    new PutVectorsCommand({
      vectorBucketName: 'media',
      indexName: 'films',
      vectors: genres.map((genre, i) => ({ key: `film-${i}`, data: { float32: [i, 0, 0] }, metadata: { genre, year: 2000 + i, note: `n${i}` } })),
    }),
  );
  await page.click('#indexes tr[data-index="films"] a');
  await page.waitForSelector('#vector-list');
  for (let i = 0; i < genres.length; i++) await page.waitForSelector(`#vector-list tr[data-key="film-${i}"]`);
  expect(await textOf('#vector-list tr[data-key="film-3"]')).toContain('"genre":"drama"');
  await waitForText('[data-figure=rows]', '8');

  // GetVectors of one key, with its data.
  await fill('#key-search input[name=key]', 'film-5');
  await page.click('#key-search button[type=submit]');
  await waitForText('#found', '[5,0,0]');

  // A filtered query from a pasted vector: the nearest dramas to [2.9, 0, 0], in order.
  await page.$$eval('#query input[name=source]', (els: any[]) => els[1].click()); // "JSON array"
  await fill('#query textarea[name=queryVector]', '[2.9, 0, 0]');
  await fill('#query input[name=topK]', '3');
  await fill('#query textarea[name=filter]', '{"genre": "drama", "year": {"$gte": 2001}}');
  await page.click('#run-query');
  await page.waitForSelector('#results tbody tr');
  const keys = await page.$$eval('#results tbody tr', (rows: any[]) => rows.map((r: any) => r.getAttribute('data-key')));
  expect(keys).toEqual(['film-3', 'film-2', 'film-6']);
  expect(await textOf('#results tr[data-key="film-3"] .distance')).toContain('0.1000');
  // The distance bars get their widths (styles set through the DOM pass the strict policy).
  expect(await page.$$eval('#results .bar > div', (els: any[]) => els.map((e) => e.style.width))).toEqual(['3.2258%', '29.0323%', '100%']);

  // The picture: every sampled vector drawn, the query's hits ringed.
  await page.$$eval('#pca button', (els: any[]) => els[0].click());
  await page.waitForSelector('#pca svg circle');
  await page.waitForFunction(() => document.querySelectorAll('#pca svg circle[r="3"]').length === 8);
  expect(await page.$$eval('#pca svg circle[r="7"]', (els: any[]) => els.length)).toBe(3);
  await shot('04-index');

  // "Query with this vector" from a result row: its vector becomes the query.
  await page.click('#results tr[data-key="film-6"] button');
  await page.waitForFunction(() => document.querySelector('#query textarea[name=queryVector]')?.value === '[6,0,0]');

  // A bad filter: the server's ValidationException, as it comes.
  await fill('#query textarea[name=filter]', '{"genre": {"$bogus": 1}}');
  await page.click('#run-query');
  await waitForText('#query .error', 'ValidationException');
  expect(await textOf('#query .error')).toContain('HTTP 400');
  await shot('05-bad-filter');

  // Delete selected keys.
  await page.click('#vector-list tr[data-key="film-0"] input[type=checkbox]');
  await page.click('#vector-list tr[data-key="film-1"] input[type=checkbox]');
  await page.click('#delete-selected');
  await page.waitForFunction(() => !document.querySelector('#vector-list tr[data-key="film-0"]') && !document.querySelector('#vector-list tr[data-key="film-1"]'));
  await waitForText('[data-figure=rows]', '6');

  // Watching: the figures follow writes made elsewhere, without a click.
  await page.click('#watch');
  await server.client.send(new PutVectorsCommand({ vectorBucketName: 'media', indexName: 'films', vectors: [{ key: 'film-8', data: { float32: [8, 0, 0] } }] }));
  await waitForText('[data-figure=rows]', '7');
  await page.click('#watch');

  // A reload keeps the tab signed in (sessionStorage), on the same page.
  await page.reload();
  await waitForText('#whoami', TEST_CREDENTIALS.accessKeyId);
  await page.waitForSelector('#vector-list tr[data-key="film-2"]');

  // Sign out: the keys leave sessionStorage.
  await page.click('#signout');
  await page.waitForSelector('#signin');
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  console.log(`console browser test: ${Date.now() - started} ms`);
  const origins = new Set(requested.map((u) => new URL(u).origin));
  expect([...origins]).toEqual([server.url]);
  // The 400/403/404/409 answers the test provoked (and the absent bucket policy) are logged by the
  // browser; nothing else may be: no script error, no content-security-policy violation.
  expect(pageErrors.filter((e) => !/status of (400|403|404|409)/.test(e))).toEqual([]);
  expect(requested.some((u) => u.endsWith('/QueryVectors'))).toBe(true);
  expect(requested.some((u) => u.includes('/console/api/index-status'))).toBe(true);
});

test('bucket settings (tags, policy, default mode) and paging', async () => {
  await signIn(TEST_CREDENTIALS.secretAccessKey);
  await waitForText('#whoami', TEST_CREDENTIALS.accessKeyId);
  await page.goto(`${server.url}/console#/b/media`);
  await page.waitForSelector('#tags form');

  await fill('#tags input[placeholder=key]', 'team');
  await fill('#tags input[placeholder=value]', 'search');
  await page.click('#tags button[type=submit]');
  await waitForText('#tags table', 'search');

  // The server's ValidationException next to the policy text; a good policy is saved.
  await fill('#policy textarea', '{"Version": "2012-10-17", "Statement": "nope"}');
  await page.$$eval('#policy > button', (els: any[]) => els[0].click());
  await waitForText('#policy .editor-side .error', 'ValidationException');
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3vectors:GetIndex', Resource: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/media/index/*' }],
  };
  await page.$eval('#policy textarea', (el: any) => (el.value = ''));
  await page.type('#policy textarea', JSON.stringify(policy));
  await page.$$eval('#policy > button', (els: any[]) => els[0].click());
  await waitForText('#policy .ok', 'Saved.');
  await page.waitForFunction(() => document.querySelector('#policy textarea').value.includes('s3vectors:GetIndex'));

  // CLASSIC is for buckets created before the cutoff: the server says so.
  await page.$$eval('#default-mode button', (els: any[]) => els[0].click());
  await waitForText('#default-mode .error', 'ValidationException');
  await shot('06-bucket-settings');

  // topK 120 of 130: the console follows the query's nextToken and pages the table by 100.
  await server.client.send(new CreateIndexCommand({ vectorBucketName: 'media', indexName: 'many', dataType: 'float32', dimension: 2, distanceMetric: 'euclidean' }));
  await server.client.send(
    new PutVectorsCommand({ vectorBucketName: 'media', indexName: 'many', vectors: Array.from({ length: 130 }, (_, i) => ({ key: `m${i}`, data: { float32: [i, 0] } })) }),
  );
  await page.goto(`${server.url}/console#/b/media/i/many`);
  await page.waitForSelector('#query input[name=queryKey]');
  // The index view re-renders when its GetIndex answers: type into the settled form, not a node it replaces.
  await page.waitForNetworkIdle({ idleTime: 300 });
  await page.type('#query input[name=queryKey]', 'm0');
  await fill('#query input[name=topK]', '120');
  await page.click('#run-query');
  await waitForText('#results-pager', 'of 120');
  expect(await page.$$eval('#results tbody tr', (rows: any[]) => rows.length)).toBe(100);
  expect(await page.$eval('#results tbody tr', (r: any) => r.getAttribute('data-key'))).toBe('m0');
  await page.click('#results-pager .pager-next');
  await page.waitForFunction(() => document.querySelectorAll('#results tbody tr').length === 20);
  expect(await page.$eval('#results tbody tr:last-child', (r: any) => r.getAttribute('data-key'))).toBe('m119');

  // Delete an index, with a confirm.
  await page.goto(`${server.url}/console#/b/media`);
  await page.waitForSelector('#indexes tr[data-index="many"]');
  await page.click('#indexes tr[data-index="many"] button.danger');
  await page.click('#indexes tr[data-index="many"] .confirm-yes');
  await page.waitForFunction(() => !document.querySelector('#indexes tr[data-index="many"]'));
  await page.waitForSelector('#indexes tr[data-index="films"]');

  // 24 buckets: pages of 20.
  for (let i = 0; i < 23; i++) await server.client.send(new CreateVectorBucketCommand({ vectorBucketName: `page-${String(i).padStart(2, '0')}` }));
  await page.goto(`${server.url}/console#/`);
  await page.waitForFunction(() => document.querySelectorAll('#buckets tbody tr').length === 20);
  await page.click('.pager-next');
  await page.waitForFunction(() => document.querySelectorAll('#buckets tbody tr').length === 4);
  await page.$$eval('.pager button', (els: any[]) => els[0].click());
  await page.waitForFunction(() => document.querySelectorAll('#buckets tbody tr').length === 20);

  // Delete a bucket: Cancel keeps it, "Yes, delete" removes it.
  await page.click('#buckets tr[data-bucket="page-00"] button.danger');
  await page.click('#buckets tr[data-bucket="page-00"] .confirm button.secondary');
  await page.click('#buckets tr[data-bucket="page-00"] button.danger');
  await page.click('#buckets tr[data-bucket="page-00"] .confirm-yes');
  await page.waitForFunction(() => !document.querySelector('#buckets tr[data-bucket="page-00"]'));
  await page.waitForFunction(() => document.querySelectorAll('#buckets tbody tr').length === 20);
});

test('a user who may read one bucket but not list buckets signs in and opens it', async () => {
  const identities = server.service.identities;
  await identities.createUser('reader');
  const key = await identities.createAccessKey('reader');
  const actions = ['ListIndexes', 'GetIndex', 'ListVectors', 'GetVectors', 'QueryVectors', 'GetVectorBucket', 'ListTagsForResource', 'GetVectorBucketPolicy'];
  const resource = 'arn:aws:s3vectors:us-east-1:123456789012:bucket/media';
  await identities.attachPolicy(
    'reader',
    'read-media',
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions.map((a) => `s3vectors:${a}`), Resource: [resource, `${resource}/*`] }] }),
  );
  await page.goto(`${server.url}/console`);
  await page.evaluate(() => sessionStorage.clear());
  await page.reload();
  await fill('#signin input[name=accessKeyId]', key.accessKeyId);
  await fill('#signin input[name=secretAccessKey]', key.secretAccessKey);
  await page.click('#signin button[type=submit]');
  await waitForText('#whoami', key.accessKeyId);
  await waitForText('.error', 'AccessDeniedException');
  expect(await textOf('.error')).toContain('s3vectors:ListVectorBuckets');
  await fill('#open-bucket input[name=openBucket]', 'media');
  await page.click('#open-bucket button[type=submit]');
  await page.waitForSelector('#indexes tr[data-index="films"]');
  // Creating an index is not allowed: the server's AccessDeniedException, shown as it comes.
  await fill('#create-index input[name=indexName]', 'nope');
  await fill('#create-index input[name=dimension]', '3');
  await page.click('#create-index button[type=submit]');
  await waitForText('.error', 's3vectors:CreateIndex');
  await shot('07-read-only-user');
  await page.click('#signout');
});

test('with authentication off there is no sign-in', async () => {
  const open = await startConsoleService({ auth: false });
  try {
    await page.goto(`${open.url}/console`);
    await waitForText('#whoami', 'authentication off');
    await waitForText('.empty', 'create_vector_bucket');
    expect(await page.$('#signin')).toBeNull();
    await fill('#create-bucket input[name=bucketName]', 'open-bucket');
    await page.click('#create-bucket button[type=submit]');
    await page.waitForSelector('#buckets tr[data-bucket="open-bucket"]');
  } finally {
    await open.close();
  }
});
