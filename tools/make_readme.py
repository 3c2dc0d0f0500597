"""Write README.md from nbs/index.ipynb: the offline stand-in for `nbdev_readme`, which needs Quarto.

Usage: python tools/make_readme.py [--check]   (--check: exit 1 if README.md is out of date, writing nothing)
"""
import json, os, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = '<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n'

def cell_text(cell) -> str:
    "A cell's source as one string."
    return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def code_markdown(cell) -> str:
    "A code cell and its text outputs as fenced Markdown; '' for hidden cells."
    lines = cell_text(cell).splitlines()
    directives = [l for l in lines if l.startswith('#|')]
    if any(d.split()[1:2] in (['hide'], ['export'], ['exporti'], ['default_exp']) for d in directives): return ''
    parts = ['```python\n' + '\n'.join(l for l in lines if not l.startswith('#|')).strip() + '\n```']
    for out in cell.get('outputs', []):
        text = out.get('text') or out.get('data', {}).get('text/plain')
        if text: parts.append('```\n' + (''.join(text) if isinstance(text, list) else text).rstrip() + '\n```')
    return '\n\n'.join(parts)

def readme(nb_path: Path) -> str:
    "The README text for the index notebook at `nb_path`."
    cells = json.loads(nb_path.read_text(encoding='utf-8'))['cells']
    blocks = [cell_text(c).strip() if c['cell_type'] == 'markdown' else code_markdown(c) for c in cells]
    return HEADER + '\n\n'.join(b for b in blocks if b) + '\n'

def main():
    text, target = readme(ROOT/'nbs'/'index.ipynb'), ROOT/'README.md'
    if '--check' in sys.argv[1:]:
        ok = target.exists() and target.read_text(encoding='utf-8') == text
        print('README.md is up to date' if ok else 'README.md is out of date: run python tools/make_readme.py')
        sys.exit(0 if ok else 1)
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix='.README.', suffix='.part')
    with os.fdopen(fd, 'w', encoding='utf-8') as f: f.write(text)
    mask = os.umask(0o022); os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)   # mkstemp's 0600 would make README.md private
    os.replace(tmp, target)
    print(f'wrote {target.relative_to(ROOT)} ({len(text.splitlines())} lines)')

if __name__ == '__main__': main()
