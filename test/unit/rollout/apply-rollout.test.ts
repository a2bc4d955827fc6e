// Tests for applyRollout: the only place a mode overrides a decision (architecture §1 "Modes").
import { describe, expect, it } from 'vitest';
import { MODES, type Decision, type Effect, type Mode } from '../../../src/authz/types.js';
import { applyRollout } from '../../../src/rollout/apply-rollout.js';

describe('applyRollout', () => {
  it.each<[Mode, Decision, Effect]>([
    ['shadow', 'allow', 'allow'],
    ['shadow', 'deny', 'allow'],
    ['warn', 'allow', 'allow'],
    ['warn', 'deny', 'warn'],
    ['enforce', 'allow', 'allow'],
    ['enforce', 'deny', 'deny'],
  ])('in %s mode turns %s into %s', (mode, decision, effect) => {
    expect(applyRollout(mode, decision)).toBe(effect);
  });

  it('never turns an allow into anything else, in every mode', () => {
    expect(MODES.map((m) => applyRollout(m, 'allow'))).toEqual(['allow', 'allow', 'allow']);
  });

  it('denies only in enforce mode', () => {
    expect(MODES.filter((m) => applyRollout(m, 'deny') === 'deny')).toEqual(['enforce']);
  });
});
