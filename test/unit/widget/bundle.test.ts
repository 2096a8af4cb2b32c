import { gzipSync } from 'node:zlib';
import { bundleWidget } from '../../../widget/build.js';

/** The size budget of the embeddable script, gzipped. */
const MAX_GZIP_BYTES = 20 * 1024;

describe('widget bundle', () => {
  let code: string;
  beforeAll(async () => {
    code = await bundleWidget();
  });

  it(`It should stay within ${MAX_GZIP_BYTES} bytes gzipped`, () => {
    const size = gzipSync(code, { level: 9 }).length;
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(MAX_GZIP_BYTES);
  });

  it('It should be one self-contained script that defines the ChatWidget global', () => {
    expect(code).not.toMatch(/\bimport\s*[({"']|\brequire\(|\bexport\s/);
    expect(code).toContain('ChatWidget');
  });

  it.each([
    ['innerHTML'],
    ['outerHTML'],
    ['insertAdjacentHTML'],
    ['document.write'],
    ['eval('],
    ['new Function'],
    ['srcdoc'],
  ])('It should contain no HTML or code sink (%s)', (sink) => {
    expect(code).not.toContain(sink);
  });
});
