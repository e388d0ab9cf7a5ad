import { describe, expect, it } from 'vitest';
import { CloseStack, closeOnce } from '../../src/lifecycle.js';

describe('CloseStack', () => {
  it('closes in reverse order, once, and goes on past a failing close', async () => {
    const order: string[] = [];
    const errors: unknown[] = [];
    const stack = new CloseStack((err) => errors.push(err));
    stack.push({ close: () => void order.push('store') });
    stack.push({
      close: () => {
        order.push('media');
        throw new Error('media would not stop');
      },
    });
    const api = stack.push({ close: async () => void order.push('api') });
    expect(typeof api.close).toBe('function');
    await Promise.all([stack.close(), stack.close()]);
    await stack.close();
    expect(order).toEqual(['api', 'media', 'store']);
    expect(errors).toHaveLength(1);
  });
});

describe('closeOnce', () => {
  it('runs the close on the first call only and hands every caller its promise', async () => {
    let calls = 0;
    const close = closeOnce(async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 10));
    });
    const a = close();
    const b = close();
    expect(a).toBe(b);
    await a;
    await close();
    expect(calls).toBe(1);
  });
});
