// `npx tsx test/console/screenshot.ts`: makes docs/console.png, the README's picture of the console
// (an index of 600 clustered vectors, a filtered query, the PCA picture coloured by genre).
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { CreateIndexCommand, CreateVectorBucketCommand, PutVectorsCommand } from '@aws-sdk/client-s3vectors';
import { TEST_CREDENTIALS } from '../helpers/service';
import { startConsoleService } from './console-server';

declare const document: any;

async function main(): Promise<void> {
  const server = await startConsoleService();
  const browser = await puppeteer.launch({ executablePath: process.env.S3V_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const { client } = server;
    await client.send(new CreateVectorBucketCommand({ vectorBucketName: 'movies' }));
    await client.send(new CreateIndexCommand({ vectorBucketName: 'movies', indexName: 'plots', dataType: 'float32', dimension: 16, distanceMetric: 'cosine' }));
    // Three genres, each a noisy cluster around its own direction (a fixed pseudo-random sequence).
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const genres = ['drama', 'comedy', 'horror'];
    const centres = genres.map(() => Array.from({ length: 16 }, rand));
    const vectors = Array.from({ length: 600 }, (_, i) => {
      const g = i % 3;
      return {
        key: `movie-${String(i).padStart(4, '0')}`,
        data: { float32: centres[g].map((c) => c + rand() * 0.45) },
        metadata: { genre: genres[g], year: 1980 + (i % 45) },
      };
    });
    for (let i = 0; i < vectors.length; i += 200) await client.send(new PutVectorsCommand({ vectorBucketName: 'movies', indexName: 'plots', vectors: vectors.slice(i, i + 200) }));

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
    await page.goto(`${server.url}/console`);
    await page.type('#signin input[name=accessKeyId]', TEST_CREDENTIALS.accessKeyId);
    await page.type('#signin input[name=secretAccessKey]', TEST_CREDENTIALS.secretAccessKey);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#whoami');
    await page.goto(`${server.url}/console#/b/movies/i/plots`);
    await page.waitForSelector('#vector-list');
    await page.type('#query input[name=queryKey]', 'movie-0001');
    await page.$eval('#query input[name=topK]', (el: any) => (el.value = ''));
    await page.type('#query input[name=topK]', '5');
    await page.type('#query textarea[name=filter]', '{"year": {"$gte": 2000}}');
    await page.click('#run-query');
    await page.waitForSelector('#results tbody tr');
    await page.$$eval('#pca button', (els: any[]) => els[0].click());
    await page.waitForSelector('#pca select');
    await page.select('#pca select', 'genre');
    await page.waitForSelector('#pca .legend');
    // The query and the picture side by side with the figures: hide the vector list for the shot.
    await page.evaluate(() => (document.querySelector('#vectors').style.display = 'none'));
    await page.screenshot({ path: join(__dirname, '..', '..', 'docs', 'console.png'), fullPage: true });
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
