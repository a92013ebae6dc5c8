// screenshots.mjs — not a test: regenerates docs/screenshots/*.png from the real server.
//   node tests/e2e/screenshots.mjs
import { mkdirSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, createDoc, waitFor } from './harness.mjs';

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
mkdirSync(OUT, { recursive: true });

const ESSAY = `# The Lighthouse Keeper

The lighthouse stood at the edge of the bay, white against a sky that changed its mind every hour. For forty years, Martha had climbed its one hundred and twelve steps each evening to light the lamp.

She kept a logbook on the small desk by the window. In it she wrote the weather, the ships that passed, and sometimes a line or two about the birds that rested on the gallery rail.

## The storm

On the night of the great storm, the wind came in from the north with a sound like a train that would not stop. The windows hummed. **Martha did not sleep.** She watched the beam sweep across the water, again and again, a steady hand on a restless sea.

Near midnight she saw a light where no light should be: a small boat, pitching between the waves, far too close to the rocks.

- She rang the bell three times.
- She signalled with the hand lamp.
- She waited, and she watched.

> The sea does not care who you are, her father used to say. But the light does.

By morning the wind had dropped, and the little boat lay safe in the harbour, its crew asleep on the quay. Martha wrote one line in the logbook, *Storm from the north; all home*, and went downstairs to make tea.

## Afterwards

Years later, when the light was automated and the keepers were sent away, the logbooks were taken to the town museum. Visitors still read them, turning the pages slowly, as if the weather of those evenings might come back through the paper.
`;

const server = await startServer();
const browser = await launchBrowser();
async function shot(page, name) {
  await page.mouse.move(5, 400);
  await page.waitForTimeout(400);
  await page.screenshot({ path: `${OUT}/${name}.png` });
  console.log(`${OUT}/${name}.png`);
}
try {
  const doc = await createDoc(server, { content: ESSAY, format: 'markdown' });
  await createDoc(server, { content: 'Meeting notes.\n\nWe agreed to ship on Friday.', title: 'Meeting notes, 14 March' });
  await createDoc(server, { content: '# Reading list\n\nA few essays worth hearing on the train.', format: 'markdown' });

  for (const scheme of ['light', 'dark']) {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 820 }, colorScheme: scheme, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/#/`);
    await page.locator('.doc-item').first().waitFor();
    if (scheme === 'light') await shot(page, 'library');
    await page.goto(`${server.url}/#/doc/${doc.id}`);
    await page.locator('button.play').waitFor();
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    await page.locator('.doc-text [data-block-idx="3"]').click();
    await waitFor(() => page.evaluate(() => document.querySelector('audio').currentTime > 1.2));
    await shot(page, `reading-${scheme}`);
    if (scheme === 'light') {
      await page.keyboard.press('?');
      await shot(page, 'help');
      await page.keyboard.press('Escape');
      await page.goto(`${server.url}/#/new`);
      await page.getByLabel('Text', { exact: true }).fill('Paste anything here: an article, notes, a chapter…');
      await shot(page, 'new-document');
    }
    await ctx.close();
  }

  const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await phone.newPage();
  await page.goto(`${server.url}/#/doc/${doc.id}`);
  await page.locator('button.play').waitFor();
  await page.getByRole('button', { name: 'Play', exact: true }).tap();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  await page.locator('.doc-text [data-block-idx="4"]').tap();
  await waitFor(() => page.evaluate(() => document.querySelector('audio').currentTime > 1));
  await shot(page, 'phone');
  await page.goto(`${server.url}/#/`);
  await page.locator('.doc-item').first().waitFor();
  await shot(page, 'phone-library');
  await phone.close();
} finally {
  await browser.close();
  await server.cleanup();
}
