/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextThemePref, parseThemePref, resolveTheme } from './theme.ts';

test('stored preference: dark and light kept, anything else follows the system', () => {
  assert.equal(parseThemePref('dark'), 'dark');
  assert.equal(parseThemePref('light'), 'light');
  assert.equal(parseThemePref('system'), 'system');
  assert.equal(parseThemePref(null), 'system');
  assert.equal(parseThemePref('purple'), 'system');
});

test('system follows the OS, forced themes ignore it; the toggle cycles through all three', () => {
  assert.equal(resolveTheme('system', true), 'light');
  assert.equal(resolveTheme('system', false), 'dark');
  assert.equal(resolveTheme('dark', true), 'dark');
  assert.equal(resolveTheme('light', false), 'light');
  assert.deepEqual([nextThemePref('system'), nextThemePref('dark'), nextThemePref('light')], ['dark', 'light', 'system']);
});
