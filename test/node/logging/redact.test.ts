import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogging, Redactor } from '../../../shared/logging';
import { RecordingSink } from './helpers';

afterEach(() => vi.restoreAllMocks());

describe('Redactor', () => {
  const r = new Redactor({ paths: ['order.account', 'legs.*.account'] });

  it('censors secret keys at any depth, in any case or spelling, and as the end of a key', () => {
    const data = {
      symbol: 'AAPL',
      password: 'hunter2',
      venue: { API_KEY: 'k1', 'api-key': 'k2', venueApiKey: 'k3', auth: { Authorization: 'Bearer x', refresh_token: 't' } },
      list: [{ db_password: 'p' }, 'plain'],
    };
    expect(r.data(data)).toEqual({
      symbol: 'AAPL',
      password: '[REDACTED]',
      venue: {
        API_KEY: '[REDACTED]',
        'api-key': '[REDACTED]',
        venueApiKey: '[REDACTED]',
        auth: { Authorization: '[REDACTED]', refresh_token: '[REDACTED]' },
      },
      list: [{ db_password: '[REDACTED]' }, 'plain'],
    });
    expect(data.password).toBe('hunter2'); // the caller's object is not changed
  });

  it('censors configured paths, with * for any key or index', () => {
    expect(r.data({ order: { account: 'ACC-1', qty: 5 }, legs: [{ account: 'A' }, { account: 'B', px: 1 }] })).toEqual({
      order: { account: '[REDACTED]', qty: 5 },
      legs: [{ account: '[REDACTED]' }, { account: '[REDACTED]', px: 1 }],
    });
  });

  it('censors the password of a URL in any string and in the message', () => {
    expect(r.text('connect to postgres://trader:s3cr3t@db:5432/x failed')).toBe('connect to postgres://trader:[REDACTED]@db:5432/x failed');
    expect(r.data({ dsn: 'amqp://u:p@mq/', url: 'https://example.com/a@b' })).toEqual({
      dsn: 'amqp://u:[REDACTED]@mq/',
      url: 'https://example.com/a@b',
    });
  });

  it('returns the same object, uncopied, when nothing matches', () => {
    const data = { order_id: 'ORD1', symbol: 'AAPL', quantity: 100, nested: { price: 1.5, tags: ['a'] } };
    expect(r.data(data)).toBe(data);
  });

  it('keys: [] keeps only the paths and URLs; a custom censor', () => {
    expect(new Redactor({ keys: [], censor: '***' }).data({ password: 'x', dsn: 'redis://:pw@r' })).toEqual({
      password: 'x',
      dsn: 'redis://:***@r',
    });
  });
});

describe('redaction in the library', () => {
  const secret = { order_id: 'ORD1', api_key: 'live-123', dsn: 'postgres://u:pw@db/x' };

  it('batches carry censored records; the record logged is not changed', async () => {
    const sink = new RecordingSink();
    const logging = createLogging({ sink, console: false, env: {} });
    const data = { ...secret };
    logging.getServiceLogger('execution').info('login postgres://u:pw@db', data);
    await logging.flush();
    expect(sink.logs[0]).toMatchObject({
      message: 'login postgres://u:[REDACTED]@db',
      data: { order_id: 'ORD1', api_key: '[REDACTED]', dsn: 'postgres://u:[REDACTED]@db/x' },
    });
    expect(data.api_key).toBe('live-123');
  });

  it('the console and the stderr fallback show censored records; redact: false sends them as they are', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    const stderr: string[] = [];
    const sink = new RecordingSink();
    sink.script = [{ ok: false, retryable: false, status: 400, reason: 'HTTP 400: no' }];
    const logging = createLogging({ sink, console: 'json', env: {}, stderr: (l) => stderr.push(l) });
    logging.getServiceLogger('execution').error('failed', secret);
    await logging.flush();
    expect(lines.join('\n')).toContain('[REDACTED]');
    expect(lines.join('\n')).not.toMatch(/live-123|:pw@/);
    expect(stderr.join('\n')).toContain('[REDACTED]');
    expect(stderr.join('\n')).not.toMatch(/live-123|:pw@/);

    const plain = new RecordingSink();
    const off = createLogging({ sink: plain, console: false, env: {}, redact: false });
    off.getServiceLogger('execution').info('m', secret);
    await off.flush();
    expect(plain.logs[0]!.data).toEqual(secret);
  });
});
