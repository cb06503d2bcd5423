import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LABEL_VALUE_LENGTH, labelValue } from '../../../src/samples/label-value.ts';

// The rule written as a regular expression, to check the one-pass implementation against.
const reference = (v: string): boolean =>
  v.length >= 1 &&
  v.length <= MAX_LABEL_VALUE_LENGTH &&
  !/[\p{Cc}\p{Cs}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u.test(v) &&
  !/^\s|\s$/u.test(v) &&
  !/^\p{M}|\p{M}{4}/u.test(v);

describe('labelValue', () => {
  it.each([
    ['pcmu', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['opus "stereo" \\ ü', true],
    [`${'x'.repeat(62)}🎧`, true],
    ['a\tb', false],
    ['a\u007f', false],
    ['a\u009f', false],
    ['a\u00a0b', true],
    ['a\u00a0', false],
    ['\ud83c', false],
    ['\udfa7x', false],
    ['\ud83c\ud83c\udfa7', false],
    // Invisible format characters: a value that reads like another is another series.
    ['pcmu\u200b', false],
    ['\u202eumcp', false],
    ['us1\u2066', false],
    ['\ufeffopus', false],
    ['op\u00adus', false],
    ['x\udb40\udc01', false],
    ['us1\u2028', false],
    ['us1\u2029', false],
    // Probe N F6: invisible or blank-looking characters that let one value read as another.
    ['pcmu\ufe0f', false],
    ['pcmu\u3164', false],
    ['\u3164', false],
    ['pcmu ', false],
    [' pcmu', false],
    ['pcmu\u00a0', false],
    ['\u0301'.repeat(64), false],
    ['pcmu\u0301\u0301\u0301\u0301', false],
    ['pcmu\u034f', false],
    ['ashburn 1', true],
    ['São Paulo', true],
    ['Tiê\u0301ng Viê\u0323t', true],
    ['東京', true],
  ])('%j is kept: %s', (v, kept) => {
    expect(labelValue(v)).toBe(kept ? v : undefined);
  });

  it('keeps only strings', () => {
    for (const v of [null, undefined, 7, ['pcmu'], { name: 'pcmu' }]) expect(labelValue(v)).toBeUndefined();
  });

  it('agrees with the rule written as a regular expression, on any UTF-16 code units', () => {
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0xffff }),
      fc.constantFrom(0x00, 0x1f, 0x20, 0x7e, 0x7f, 0x9f, 0xa0, 0xad, 0x200b, 0x202e, 0x2066, 0x2028, 0x2029, 0xfeff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xdb40, 0x78, 0x301, 0x34f, 0xfe0f, 0x3164, 0x3000, 0x61),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 70 }), (units) => {
        const v = String.fromCharCode(...units);
        expect(labelValue(v) !== undefined).toBe(reference(v));
      }),
      { numRuns: 5000 },
    );
  });
});
