"""Check the built documentation site in a real browser: Debian's Chromium driven by Playwright.

Usage, from the repository root: python tools/check_site.py _site [--screenshot DIR]

The site is served by http.server on 127.0.0.1. For every notebook in nbs/ (the index notebook is the
home page; pages named as tools/build_docs.py names them) the page must: answer 200; raise no JS error;
have no failed or >=400 same-origin request (css, js, images, search index) and no request off the
site at all (the docs must work offline); have every <img> decoded (naturalWidth and naturalHeight > 0) and
carrying real alt text (not nbconvert's placeholder); no table or code block that scrolls sideways at 1280 px;
show a non-empty main article whose first heading is the notebook's title; and link only to
same-origin URLs that answer 200 (pure #anchors skipped; links off the site are not followed).
The search check: search/search_index.json lists every page, and typing each page's title into the
Material search box lists that page. One PASS/FAIL line per check, then `N passed, M failed`;
the exit status is 0 only if nothing failed. --screenshot DIR saves a full-page PNG of each page.
"""
import argparse, json, re, shutil, sys, threading, time, urllib.error, urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag
from playwright.sync_api import sync_playwright
from build_docs import pages, NO_ALT

CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
# true once the search results list the page file `f`
FOUND = '''f => [...document.querySelectorAll('.md-search-result__link')]
               .some(a => new URL(a.href).pathname.endsWith('/' + f))'''

class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the browser dropping a connection is not an error
        if not isinstance(sys.exc_info()[1], ConnectionError): super().handle_error(request, client_address)

def serve(site:Path) -> str:
    "Serve `site` from a background thread; returns its base URL."
    httpd = QuietServer(('127.0.0.1', 0), partial(QuietHandler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f'http://127.0.0.1:{httpd.server_port}/'

def status(url:str, cache:dict={}) -> int:
    "HTTP status of `url`, each URL fetched once."
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as r: cache[url] = r.status
        except urllib.error.HTTPError as e: cache[url] = e.code
    return cache[url]

def watch(page, base:str) -> list[str]:
    "A list that collects the page's JS errors, failed same-origin requests and any request off the site."
    errors = []
    def on_request(r):
        if not r.url.startswith((base, 'data:', 'blob:')): errors.append(f'request off the site: {r.url}')
    page.on('request', on_request)
    page.on('pageerror', lambda e: errors.append(f'JS error: {e}'))
    page.on('requestfailed', lambda r: r.url.startswith(base) and errors.append(f'request failed: {r.url} ({r.failure})'))
    page.on('response', lambda r: r.url.startswith(base) and r.status >= 400 and errors.append(f'HTTP {r.status}: {r.url}'))
    return errors

def check_page(page, errors:list, base:str, file:str, title:str, shots:Path|None) -> tuple[list[str], str]:
    "Problems found on the page `file`, and a summary of what was checked; `errors` is `watch(page)`."
    errors.clear()
    resp = page.goto(base + file, wait_until='load')
    if resp is None or resp.status != 200: return [f'HTTP {resp and resp.status} for the page itself'], ''
    page.wait_for_load_state('networkidle')
    problems = list(errors)
    imgs = page.eval_on_selector_all('img',
                                     'es => es.map(e => [e.currentSrc.slice(0, 60), e.naturalWidth, e.naturalHeight, e.alt || ""])')
    problems += [f'image not decoded: {src}' for src, w, h, _ in imgs if not (w > 0 and h > 0)]
    problems += [f'image without alt text: {src}' for src, _, _, alt in imgs if not alt.strip() or alt == NO_ALT]
    wide = page.eval_on_selector_all('article table, article pre', 'es => es.filter(e => e.scrollWidth > e.clientWidth + 2).length')
    if wide: problems.append(f'{wide} tables or code blocks scroll sideways at 1280 px')
    article = page.locator('article.md-content__inner')
    if not article.count() or not article.inner_text().strip(): problems.append('no main article')
    else:
        h1 = article.locator('h1').first
        shown = h1.inner_text().rstrip('¶').strip() if h1.count() else None
        if shown != re.sub(r'[`*]', '', title): problems.append(f'article title {shown!r}, expected {title!r}')
    hrefs = page.eval_on_selector_all('a[href]:not([href^="#"])', 'es => es.map(e => e.href)')
    links = sorted({urldefrag(h).url for h in hrefs if h.startswith(base)})
    problems += [f'link {u} answers {s}' for u in links if (s := status(u)) != 200]
    if shots: page.screenshot(path=str(shots/f'{Path(file).stem}.png'), full_page=True)
    return problems, f'{len(imgs)} images, {len(links)} links'

def check_search(page, errors:list, base:str, expected:list[tuple[str, str]]) -> tuple[list[str], str]:
    "Problems with search (pages not in its index, titles the search box does not find), and a summary."
    errors.clear()
    url = base + 'search/search_index.json'
    if status(url) != 200: return [f'HTTP {status(url)} for search/search_index.json'], ''
    docs = json.loads(urllib.request.urlopen(url).read())['docs']
    listed = {urldefrag(d['location']).url or 'index.html' for d in docs}
    problems = [f'{file} not in the search index' for file, _ in expected if file not in listed]
    page.goto(base + 'index.html', wait_until='load')
    box = page.locator('input.md-search__input')
    for file, title in expected[1:]:
        box.fill('')
        box.press_sequentially(title)  # Material searches on key events, not on a programmatic fill
        try: page.wait_for_function(FOUND, arg=file, timeout=5_000)
        except Exception: problems.append(f'the search box does not list {file} for {title!r}')
    return problems + errors, f'the index lists all {len(expected)} pages; the search box finds each title'

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('site', type=Path, help='the built site, e.g. _site')
    ap.add_argument('--screenshot', type=Path, metavar='DIR', help='save a full-page PNG of each page here')
    args = ap.parse_args()
    if not (args.site/'index.html').is_file():
        sys.exit(f'check_site: no {args.site}/index.html; run python tools/build_docs.py first')
    chromium = shutil.which('chromium')
    if not chromium: sys.exit('check_site: no chromium on PATH (apt-get install chromium)')
    if args.screenshot: args.screenshot.mkdir(parents=True, exist_ok=True)
    t0, base, expected, shots, failed = time.perf_counter(), serve(args.site), pages(), args.screenshot, 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        errors = watch(page, base)
        checks = [(f"page {nb.stem if nb else 'index'}", partial(check_page, page, errors, base, file, title, shots))
                  for nb, file, title in expected]
        checks.append(('search', partial(check_search, page, errors, base, [(f, t) for _, f, t in expected])))
        for what, check in checks:
            try: problems, summary = check()
            except Exception as e: problems = [f'{type(e).__name__}: {e}']
            failed += bool(problems)
            print(f"{'FAIL' if problems else 'PASS'} {what}: {'; '.join(problems) or summary}", flush=True)
        browser.close()
    print(f'checked in {time.perf_counter()-t0:.1f}s')
    print(f'{len(checks)-failed} passed, {failed} failed')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
