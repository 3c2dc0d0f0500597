"""Open a `clipdepth reproduce` report page in headless Chromium (Debian's, driven by Playwright) and check it.

Usage: python tools/check_report.py REPORT/report.html

The page must load from file:// with no JS error and no request except data: URLs (it is self-contained), show its
title, and have every <img> decoded (naturalWidth and naturalHeight > 0), at least one of them. One line, PASS or FAIL;
exit status 0 on PASS, 1 on FAIL, 2 when there is no chromium on PATH (apt-get install chromium).
"""
import shutil, sys
from pathlib import Path

def check(page_file:Path) -> tuple[list[str], int]:
    "Problems found on the report page `page_file`, and its number of images."
    from playwright.sync_api import sync_playwright
    problems, url = [], page_file.resolve().as_uri()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which('chromium'), args=['--headless', '--no-sandbox', '--disable-gpu'])
        page = browser.new_page()
        page.on('pageerror', lambda e: problems.append(f'JS error: {e}'))
        page.on('request', lambda r: r.url.startswith(('data:', url)) or problems.append(f'request off the page: {r.url}'))
        page.goto(url, wait_until='load')
        imgs = page.eval_on_selector_all('img', 'es => es.map(e => [e.alt, e.naturalWidth, e.naturalHeight])')
        if not imgs: problems.append('no images')
        problems += [f'image not decoded: {alt}' for alt, w, h in imgs if not (w > 0 and h > 0)]
        if not page.locator('h1').count() or not page.locator('h1').first.inner_text().strip(): problems.append('no title')
        browser.close()
    return problems, len(imgs)

if __name__ == '__main__':
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_file(): sys.exit('usage: python tools/check_report.py REPORT/report.html')
    if not shutil.which('chromium'): print('SKIP: no chromium on PATH (apt-get install chromium)'); sys.exit(2)
    problems, n = check(Path(sys.argv[1]))
    print(f"{'FAIL' if problems else 'PASS'} {sys.argv[1]}: {'; '.join(problems) or f'{n} images decoded, no errors, no requests'}")
    sys.exit(1 if problems else 0)
