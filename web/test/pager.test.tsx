import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderToStaticMarkup } from 'react-dom/server';
import { Pager } from '../src/components/common.js';

const link = (bookmark: string | undefined): string => (bookmark === undefined ? '#/chains/product' : `#/chains/product?from=${bookmark}`);
const render = (at: string | undefined, next: string | undefined): string => renderToStaticMarkup(<Pager at={at} next={next} link={link} labels={['« Newest', 'Older blocks ›']} />);

describe('the pager of a list', () => {
  it('links on from the first page, back and on from a middle one, back from the last, nowhere from the only one', () => {
    assert.equal(render(undefined, '19'), '<p class="pager"><a href="#/chains/product?from=19">Older blocks ›</a></p>');
    assert.equal(render('19', '-1x'), '<p class="pager"><a href="#/chains/product">« Newest</a><a href="#/chains/product?from=-1x">Older blocks ›</a></p>');
    assert.equal(render('19', undefined), '<p class="pager"><a href="#/chains/product">« Newest</a></p>');
    assert.equal(render(undefined, undefined), '<p class="pager"></p>');
  });
});
