"""Build the offline documentation site in `_site/` with mkdocs, without Quarto.

Usage, from the repository root: python tools/build_docs.py [--force]

1. nbdev processes `nbs/` into `_proc/` (show_doc cells rendered, exported and `#| hide` cells
   dropped, the title cell turned into frontmatter). We call `nbdev.serve.proc_nbs`, which is what the
   `nbdev_proc_nbs` command runs after its Quarto set-up; that set-up is skipped because without Quarto
   it tries to install it with sudo, then runs `pip install -e .[dev]`, and writes yml files into nbs/.
2. Each processed notebook is rewritten for mkdocs-jupyter into `_proc/_mkdocs/docs/<page>.ipynb`
   (Quarto and nbdev both ignore `_` folders). `<page>` is nbdev's page name (`00_core.ipynb` gives
   `core`), so the URLs (`core.html`) are those of an nbdev/Quarto site and nbdev's doc links work.
3. `mkdocs.yml` is generated beside it: Material theme without web fonts, built-in search,
   mkdocs-jupyter with `execute: false`, and a nav from `nbs/*.ipynb`: index first, then numeric order,
   each titled by its notebook's first `# Title` heading.
4. `mkdocs build --strict` writes `_site/`. The site loads nothing from the network; opened from file://
   it works too, except for search (browsers block its web worker there).
"""
import argparse, configparser, html, json, os, re, shutil, subprocess, sys, time, warnings
from pathlib import Path
import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT/'_proc'/'_mkdocs'
SITE = ROOT/'_site'
HIDE_INPUT = 'hide-input'  # cell tag mkdocs-jupyter is told to render without its source
FRONTMATTER = re.compile(r'---\s*\n(.*?)\n---\s*', re.S)  # a raw cell of YAML, as nbdev reads and writes it

def settings(root:Path=ROOT):
    "The `[DEFAULT]` section of the project's settings.ini."
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(root/'settings.ini', encoding='utf-8')
    return cp['DEFAULT']

def page_name(nb:str|Path) -> str:
    "nbdev's page name for a notebook, as `nbdev.doclinks._nbpath2html` makes it: `00_core.ipynb` -> `core`."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', Path(nb).stem.lower())

def nb_title(nb:Path) -> str:
    "The notebook's title as nbdev finds it: its first `# Title` heading or a frontmatter `title:`; else its page name."
    try: cells = json.loads(nb.read_text(encoding='utf-8'))['cells']
    except (ValueError, KeyError) as e: raise ValueError(f'{nb} is not a readable notebook: {e!r}') from None
    for cell in cells:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown' and (m := re.search(r'^#\s+(.+?)\s*$', src, re.M)): return m[1]
        meta = cell['cell_type'] == 'raw' and (fm := FRONTMATTER.fullmatch(src)) and yaml.safe_load(fm[1])
        if isinstance(meta, dict) and meta.get('title'): return str(meta['title'])
    return page_name(nb)

def pages(root:Path=ROOT) -> list[tuple[Path|None, str, str]]:
    "`(notebook, page file, title)` in nav order; a missing index notebook gives `(None, 'index.html', title)`."
    def order(p): return (p.name != 'index.ipynb', [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', p.name)])
    nbs = sorted((p for p in (root/settings(root)['nbs_path']).glob('*.ipynb') if p.name[0] not in '_.'), key=order)
    res = [(nb, page_name(nb)+'.html', nb_title(nb)) for nb in nbs]
    if len({page for _, page, _ in res}) < len(res):
        raise ValueError(f'two notebooks give the same page name: {[n.name for n in nbs]}')
    if not nbs or nbs[0].name != 'index.ipynb': res.insert(0, (None, 'index.html', settings(root)['title']))
    return res

QUARTO_ATTRS = r'\{((?:\s*(?:[#.][\w:.-]+|[\w-]+="[^"]*"))+)\s*\}'  # `{#id .class key="value"}`

def fix_markdown(text:str, doc_url:str) -> str:
    "Quarto-flavoured markdown made plain: callouts, `{...}` attributes, `.ipynb` and doc_host links."
    def callout(m):
        title = re.search(r'title="([^"]*)"', m[2])
        title = title[1] if title else m[1].title()
        return f'<div class="admonition {m[1]}">\n<p class="admonition-title">{title}</p>\n\n{m[3]}\n\n</div>'
    def heading(m):
        ident = re.search(r'#([\w:.-]+)', m[2])
        return m[1] + (f' <a id="{ident[1]}"></a>' if ident else '')
    text = re.sub(r'^:::+\s*\{\.callout-(\w+)([^}]*)\}[ \t]*\n(.*?)\n:::+[ \t]*$', callout, text, flags=re.S|re.M)
    text = re.sub(r'^:::.*\n?', '', text, flags=re.M)  # other Quarto divs (columns, margins): keep the content
    text = re.sub(r'^(#{1,6}\s.*?)\s*' + QUARTO_ATTRS + r'[ \t]*$', heading, text, flags=re.M)
    # a link with attributes, e.g. show_doc's `[source](url){target="_blank" style="float:right"}`
    text = re.sub(r'\[([^\]]*)\]\(([^)\s]+)\)' + QUARTO_ATTRS, r'<a href="\2" \3>\1</a>', text)
    text = re.sub(r'\]\((?![a-z]+:)([^)\s]*?)\.ipynb(#[^)\s]*)?\)',  # a link to a notebook: to its page
                  lambda m: f']({page_name(m[1])}.html{m[2] or ""})', text)
    return text.replace(doc_url, '')

def md_cell(text:str) -> dict: return {'cell_type': 'markdown', 'metadata': {}, 'source': text}

IMAGE_TYPES = ('image/png', 'image/jpeg', 'image/svg+xml')
NO_ALT = 'No description has been provided for this image'   # what nbconvert writes for an <img> without alt text

def alt_text(markdown:str, limit:int=300) -> str:
    "Plain text for an image's alt attribute from the markdown that introduces it (its first paragraph)."
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', markdown.strip().split('\n\n')[0])   # links: their words
    text = re.sub(r'[`*#>|]+|(?<!\w)_+|_+(?!\w)', '', text)   # markup, not the underscores inside names
    text = ' '.join(text.split()).rstrip(':').strip()
    return text[:limit].rsplit(' ', 1)[0] + '…' if len(text) > limit else text

def with_alt(cell:dict, alt:str) -> dict:
    "A code cell whose image outputs are HTML <img> tags carrying `alt` (nbconvert's own images take no alt text)."
    for out in cell.get('outputs', []):
        data = out.get('data', {})
        kind = next((k for k in IMAGE_TYPES if k in data), None)
        if not kind or 'text/html' in data: continue
        raw = ''.join(data.pop(kind))
        src = 'data:image/svg+xml;charset=utf-8,' + html.escape(raw) if kind == 'image/svg+xml' else f'data:{kind};base64,{raw.strip()}'
        data['text/html'] = f'<img src="{src}" alt="{html.escape(alt or "a figure made by the code above")}">'
        data.pop('text/plain', None)   # the figure's repr (<Figure size ...>) is not for readers
    return cell

def tidy_signature(text:str) -> str:
    "show_doc's markdown for readers: `NoneType` as None, no `typing.` prefixes, no backticks left raw in the signature's comments, no `#LNone` source anchor."
    text = re.sub(r'\btyping\.', '', text.replace('NoneType', 'None')).replace('#LNone)', ')')
    return re.sub(r'```python\n(.*?)```', lambda m: '```python\n' + m[1].replace('`', '') + '```', text, flags=re.S)

def apply_directives(cell:dict) -> dict|None:
    "A code cell with Quarto's `#|` options applied and removed; show_doc output as a markdown cell; None to drop."
    lines, opts = cell['source'].splitlines(keepends=True), {}
    while lines and (m := re.match(r'\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$', lines[0])):
        opts[m[1]] = m[2].lower()
        lines.pop(0)
    if 'hide' in opts or opts.get('include') == 'false': return None
    if opts.get('output') == 'false': cell['outputs'] = []
    mds = [o['data']['text/markdown'] for o in cell.get('outputs', []) if 'text/markdown' in o.get('data', {})]
    if opts.get('output') == 'asis' and mds: return md_cell(tidy_signature('\n\n'.join(''.join(s) for s in mds)))
    if 'fig-alt' in opts: cell['metadata']['fig_alt'] = opts['fig-alt']
    cell['source'] = ''.join(lines)
    if opts.get('echo') == 'false': cell['metadata'].setdefault('tags', []).append(HIDE_INPUT)
    return cell

def convert(src:Path, dest:Path, title:str, doc_url:str):
    "Rewrite the nbdev-processed notebook `src` as a plain Jupyter notebook `dest` for mkdocs-jupyter."
    nb = json.loads(src.read_text(encoding='utf-8'))
    nb['metadata'].pop('widgets', None)  # else nbconvert pulls widget JS from a CDN
    cells, intro = [], title
    for i, cell in enumerate(nb['cells']):
        cell_id, cell['source'] = cell.get('id') or f'docs-{i}', ''.join(cell['source'])
        fm = cell['cell_type'] == 'raw' and FRONTMATTER.fullmatch(cell['source'])
        if fm:  # nbdev's frontmatter: back to a title cell
            desc = (yaml.safe_load(fm[1]) or {}).get('description')
            cell = md_cell(f'# {title}' + (f'\n\n> {desc}' if desc else ''))
        elif cell['cell_type'] == 'code': cell = apply_directives(cell)
        if cell is None: continue
        if cell['cell_type'] == 'markdown':
            cell['source'] = fix_markdown(cell['source'], doc_url)
            intro = alt_text(cell['source']) or intro
        elif cell['cell_type'] == 'code': cell = with_alt(cell, cell['metadata'].pop('fig_alt', None) or intro)
        cells.append({**cell, 'id': cell_id})  # nbformat 4.5 wants an id on every cell
    nb['cells'] = cells
    dest.write_text(json.dumps(nb, indent=1), encoding='utf-8')

def mkdocs_config(cfg, nav:list) -> dict:
    "The mkdocs configuration: Material, offline search, saved notebook outputs, the given nav."
    return {'site_name': cfg['title'], 'site_description': cfg.get('description', ''),
            'site_author': cfg.get('author', ''), 'copyright': f"Copyright {cfg.get('copyright', '')}",
            'docs_dir': 'docs', 'site_dir': str(SITE),
            'use_directory_urls': False,  # flat pages (core.html), as nbdev names them; also browsable from file://
            'theme': {'name': 'material', 'font': False, 'features': ['navigation.top', 'search.highlight']},
            'extra_css': ['clipdepth.css'],
            'plugins': ['search', {'mkdocs-jupyter': {'execute': False, 'no_prompt': True, 'include_source': False,
                                                      'cache': True, 'cache_dir': str(STAGE/'cache'),  # unchanged pages
                                                      'remove_tag_config': {'remove_input_tags': [HIDE_INPUT]}}}],
            'nav': nav}

WIDE_CSS = '''/* wide tables and signatures wrap to the page instead of scrolling sideways */
.md-grid { max-width: 1600px; }
.md-typeset table:not([class]) { display: table; width: 100%; font-size: .68rem; }
.md-typeset table:not([class]) td, .md-typeset table:not([class]) th { white-space: normal; overflow-wrap: anywhere; }
.md-typeset blockquote, .md-typeset h2 code, .md-typeset h3 code, .md-typeset h4 code { overflow-wrap: anywhere; }
.md-typeset pre > code, .jp-OutputArea pre { white-space: pre-wrap; overflow-wrap: anywhere; }
article pre, article pre code, article .highlight pre { white-space: pre-wrap !important; overflow-wrap: anywhere; overflow-x: hidden; }
article table { table-layout: auto; max-width: 100%; }
article td, article th { white-space: normal !important; overflow-wrap: anywhere; }
'''

def stage(cfg, entries:list):
    "Fill `_proc/_mkdocs/` with the `pages()` `entries` from `_proc/`, the other files of nbs/, and `mkdocs.yml`."
    docs, nbs = STAGE/'docs', ROOT/cfg['nbs_path']
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir(parents=True)
    for f in nbs.rglob('*'):  # images and other files the notebooks refer to
        rel = f.relative_to(nbs)
        if f.is_file() and f.suffix not in ('.ipynb', '.yml') and not any(p[0] in '_.' for p in rel.parts):
            (docs/rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, docs/rel)
    (docs/'clipdepth.css').write_text(WIDE_CSS, encoding='utf-8')
    doc_url = cfg['doc_host'].rstrip('/') + cfg['doc_baseurl'].rstrip('/') + '/'
    nav = []
    for nb, page, title in entries:
        src = Path(page).with_suffix('.ipynb' if nb else '.md')
        if nb: convert(ROOT/'_proc'/nb.name, docs/src, title, doc_url)
        else: (docs/src).write_text(f"# {title}\n\n> {cfg.get('description', '')}\n", encoding='utf-8')
        nav.append({title: src.as_posix()})
    (STAGE/'mkdocs.yml').write_text(yaml.safe_dump(mkdocs_config(cfg, nav), sort_keys=False), encoding='utf-8')

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--force', action='store_true', help='reprocess every notebook, not only changed ones')
    force = ap.parse_args().force  # nbdev then empties all of _proc/, the page cache in _proc/_mkdocs/ too
    t0 = time.perf_counter()
    os.chdir(ROOT)  # nbdev finds settings.ini from the working directory
    cfg = settings()
    try:
        entries = pages()  # listed first: fails fast on an unreadable notebook, ignores notebooks added meanwhile
        from nbdev.serve import proc_nbs
        with warnings.catch_warnings():   # nbdev runs test cells that import and compute, for show_doc: expected here
            warnings.filterwarnings('ignore', message='Found cells containing imports and other code')
            os.environ['PYTHONWARNINGS'] = 'ignore:Found cells containing imports and other code'   # nbdev's worker processes too
            proc_nbs(force=force)
        stage(cfg, entries)
    except Exception as e: sys.exit(f'build_docs: FAILED while processing notebooks: {type(e).__name__}: {e}')
    r = subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '--strict', '--quiet', '-f', str(STAGE/'mkdocs.yml')],
                       env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'})  # silence Material's end-of-life banner
    if r.returncode: sys.exit(f'build_docs: FAILED: mkdocs build exited with {r.returncode} (messages above)')
    print(f'build_docs: built {len(entries)} pages into {SITE.relative_to(ROOT)}/ in {time.perf_counter()-t0:.1f}s')
    if shutil.which('quarto'):
        print('build_docs: Quarto is installed, so `nbdev_docs` also works (into _docs/); this build stays the default')

if __name__ == '__main__': main()
