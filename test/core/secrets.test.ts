/**
 * Secrets stay out of what a person reads: passwords in URLs and query strings are redacted; the LLM endpoint
 * must be https (plain http only on loopback, for local fakes).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config.ts';
import { redactSecrets } from '../../src/core/redact.ts';
import { redactUrl } from '../../src/store/db.ts';

describe('secrets', () => {
  it('redacts passwords in user:password@ and in query strings, anywhere in a text', () => {
    expect(redactUrl('postgres://app@db.internal:5432/pm?password=hunter2&sslmode=require')).toBe(
      'postgres://app@db.internal:5432/pm?password=***&sslmode=require',
    );
    expect(redactUrl('postgres://app:hunter2@db.internal/pm')).toBe('postgres://app@db.internal/pm');
    expect(
      redactSecrets(
        'connect to redis://:hunter2@10.0.0.1:6379 failed; DATABASE_URL=postgres://h/db?sslpassword=k2',
      ),
    ).toBe('connect to redis://:***@10.0.0.1:6379 failed; DATABASE_URL=postgres://h/db?sslpassword=***');
  });

  it('a bad DATABASE_URL is reported without its password', () => {
    let msg = '';
    try {
      loadConfig({ DATABASE_URL: 'mysql://u:hunter2@h/db?password=hunter2' });
    } catch (err) {
      msg = (err as ConfigError).message;
    }
    expect(msg).toContain('DATABASE_URL');
    expect(msg).not.toContain('hunter2');
  });

  it('ANTHROPIC_BASE_URL must be https unless it is loopback', () => {
    expect(() => loadConfig({ ANTHROPIC_BASE_URL: 'http://llm.example.com' })).toThrow(ConfigError);
    expect(loadConfig({ ANTHROPIC_BASE_URL: 'https://llm.example.com' }).anthropic.baseUrl).toBe(
      'https://llm.example.com',
    );
    expect(loadConfig({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:9000' }).anthropic.baseUrl).toBe(
      'http://127.0.0.1:9000',
    );
  });
});
