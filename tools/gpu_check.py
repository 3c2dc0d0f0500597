"""The CUDA path in one command: the GPU, `predict` in fp32/fp16/bf16 against the official per-image loop,
`evaluate` on a generated 1449-frame NYU .mat, training steps of every learned method, a 2-GPU torchrun step.

Usage, from the repository root:
  python tools/gpu_check.py --device cuda --out gpu_check.json             # the check: under 5 minutes on one GPU
  python tools/gpu_check.py --device cpu --quick --out /tmp/gpu_check.json # the same stages, tiny models (CI)

Every figure is measured in the run. The JSON is rewritten (atomically) after each stage, so a run stopped by a
time limit keeps what it measured; a stage that fails records its error, the others still run, and the exit status
is then 1. The table is printed at the end. Documented in nbs/20_benchmarks.ipynb ("The GPU check").
"""
from __future__ import annotations
import argparse, contextlib, copy, datetime, json, os, platform, shutil, subprocess, sys, tempfile, time, traceback
from pathlib import Path

STAGES = ('cuda', 'predict', 'evaluate', 'train', 'torchrun')   # 'data' (the .mat) runs before the last three
PRECISIONS = {'fp32': False, 'fp16': 'fp16', 'bf16': 'bf16'}   # predict's `amp` for each precision
MODES = {   # what each mode runs: the check on a GPU, and the same stages with tiny models and sizes (CI)
    'full': dict(clip=None, temperature=None, predict_n=64, ref_n=2, batch_size=16, mat_frames=1449, train_size=(416, 544),
                 train_scale=1.0, steps=10, warmup=3, max_batch=None, method_kwargs={}),
    # the tiny random CLIP saturates the softmax at the official temperature 0.1 (one bin everywhere: every difference
    # would be 0), so quick mode predicts at 10, where its maps vary; smaller CaBins and Coarse/Refined heads
    'quick': dict(clip='clipdepth-tiny-rn', temperature=10.0, predict_n=2, ref_n=2, batch_size=2, mat_frames=9,
                  train_size=(64, 96), train_scale=0.25, steps=1, warmup=0, max_batch=2,
                  method_kwargs={'cabins': dict(n_bins=64, context_width=64, context_layers=1), 'coarse-refined': dict(hidden=256)}),
}
TARGETS = dict(fp32_vs_cpu_m=1e-4, fp16_vs_fp32_m=1e-3, fp16_speedup=5.0, evaluate_seconds=30.0, gpu_busy=0.8)
DDP_METHOD = 'clip-adapter'   # the method of the torchrun step

# ---------------------------------------------------------------- the machine
def machine_info(dev) -> dict:
    "Versions, the CPU, and for CUDA every visible GPU's name, capability and memory."
    import torch
    info = dict(device=str(dev), python=platform.python_version(), torch=torch.__version__, cuda=torch.version.cuda,
                cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
                cpus=os.cpu_count(), threads=torch.get_num_threads(), cuda_available=torch.cuda.is_available(),
                gpus=[], tf32=dict(cudnn=torch.backends.cudnn.allow_tf32, matmul=torch.backends.cuda.matmul.allow_tf32))
    for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        p = torch.cuda.get_device_properties(i)
        info['gpus'].append(dict(index=i, name=p.name, capability=f'{p.major}.{p.minor}', memory_gib=p.total_memory / 2**30,
                                 multiprocessors=p.multi_processor_count, bf16=torch.cuda.is_bf16_supported()))
    return info

def check_cuda(dev) -> dict:
    "The device the check runs on: that CUDA sees it, and a small matmul on it matching the CPU's."
    import torch
    info = machine_info(dev)
    a = torch.randn(256, 256, generator=torch.Generator().manual_seed(0))
    on_dev = (a.to(dev) @ a.to(dev)).cpu()
    return dict(**info, matmul_vs_cpu=float((on_dev - a @ a).abs().max()))

# ---------------------------------------------------------------- predict against the official loop
def nyu_frames(n:int) -> list[Path]:
    "`n` of the shipped 640x480 NYU frames (data/nyu_mini), cycled."
    from clipdepth.core import data_path
    frames = sorted(data_path('nyu_mini').glob('*_rgb.png'))
    if not frames: raise FileNotFoundError(f"{data_path('nyu_mini')}: no *_rgb.png frames")
    return [frames[i % len(frames)] for i in range(n)]

def timed(dev, fn) -> tuple[float, object]:
    "(seconds, result) of `fn()`, synchronising CUDA around it."
    from clipdepth.benchmarks import Measure
    with Measure(dev) as m: out = fn()
    return m.seconds, out

def max_diff(a:list, b:list) -> float:
    "The largest absolute difference between two lists of depth maps (over the pairs they share)."
    import numpy as np
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))

def depth_std(maps:list) -> float:
    "The standard deviation of the depth inside the official box over `maps`: how much a check on them can see."
    import numpy as np
    from clipdepth.depthclip import NYU_CROP
    t, b, l, r = NYU_CROP
    return float(np.std([m[t:b, l:r] for m in maps]))

@contextlib.contextmanager
def tf32_off():
    "Run the block with TF32 off for cuDNN convolutions and CUDA matmuls (true fp32)."
    import torch
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try: yield
    finally: torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old

def predict_variants(dev) -> dict:
    "name -> (amp, context) of each predict run: fp32, fp16 and bf16 autocast, on CUDA also fp32 with TF32 off."
    import torch
    runs = {name: (amp, contextlib.nullcontext) for name, amp in PRECISIONS.items()}
    if dev.type == 'cuda':
        if not torch.cuda.is_bf16_supported(): del runs['bf16']
        runs['fp32, TF32 off'] = (False, tf32_off)
    return runs

def check_predict(model, # a DepthCLIP on the device
                  paths:list, # 640x480 frames
                  batch_size:int, workers:int, # predict's batch size and loader workers
                  ref_n:int, # images of the CPU reference
                 ) -> dict:
    "images/s of the official loop and of predict in each precision, and their differences (metres)."
    dev, n = model.device, len(paths)
    from clipdepth.benchmarks import official_setup, official_loop
    fp16 = cuda = dev.type == 'cuda'   # the official code runs CLIP in fp16 on CUDA
    setup = official_setup(model, fp16=fp16)
    if cuda: official_loop(model, paths[:1], fp16=fp16, setup=setup)                    # warm-up
    t, ref = timed(dev, lambda: official_loop(model, paths, fp16=fp16, setup=setup))
    rows, outs = [dict(name=f"official loop ({'fp16' if fp16 else 'fp32'})", amp=None, seconds=t, images_per_second=n / t)], {}
    for name, (amp, context) in predict_variants(dev).items():
        run = lambda: model.predict(paths, batch_size=batch_size, amp=amp, num_workers=workers)
        with context():
            if cuda: model.predict(paths[:batch_size], batch_size=batch_size, amp=amp)  # warm-up (cuDNN picks its kernels)
            t, outs[name] = timed(dev, run)
        rows.append(dict(name=f'predict {name}', amp=amp, seconds=t, images_per_second=n / t,
                         max_diff_vs_official_m=max_diff(outs[name], ref), max_diff_vs_fp32_m=max_diff(outs[name], outs['fp32'])))
    if cuda: t, cpu_ref = timed('cpu', lambda: official_loop(copy.deepcopy(model).to('cpu'), paths[:ref_n], fp16=False))
    else: t, cpu_ref = 0.0, ref[:ref_n]   # on a CPU the official loop above is the CPU reference
    for r in rows[1:]:
        r['speedup'] = r['images_per_second'] / rows[0]['images_per_second']
        if not r['amp']: r['max_diff_vs_cpu_m'] = max_diff(outs[r['name'].removeprefix('predict ')][:ref_n], cpu_ref)
    note = None if dev.type == 'cuda' else 'autocast is CUDA-only: on a CPU the fp16 and bf16 rows run in fp32'
    return dict(n=n, size=[416, 544], batch_size=batch_size, workers=workers, official_fp16=fp16, note=note,
                cpu_reference=dict(images=ref_n, method='official loop, fp32, on the CPU', seconds=t, depth_std_m=depth_std(cpu_ref)),
                temperature=model.temperature, rows=rows)

# ---------------------------------------------------------------- evaluate on the generated .mat
def ensure_mat(path:Path, # where the generated nyu_depth_v2_labeled.mat stand-in lives
               frames:int, # how many frames it holds (1449: the real file's 654 test frames)
              ) -> dict:
    "Write a 480x640 `make_fake_nyu_mat` file of `frames` frames at `path`, or reuse the one there."
    from clipdepth.data import make_fake_nyu_mat, NYUDepthV2
    if path.exists():
        try: have = len(NYUDepthV2(path, split='all'))
        except (ValueError, OSError) as e:
            raise ValueError(f"{path}: exists but is not a generated NYU .mat ({e}); delete it") from None
        if have != frames: raise ValueError(f"{path}: holds {have} frames, not {frames}; delete it or pass another --work")
        return dict(path=str(path), frames=frames, bytes=path.stat().st_size, seconds=0.0, reused=True)
    t0 = time.perf_counter()
    make_fake_nyu_mat(path, n=frames, size=(480, 640))
    return dict(path=str(path), frames=frames, bytes=path.stat().st_size, seconds=time.perf_counter() - t0, reused=False)

class GpuUtilization:
    "Sample `nvidia-smi`'s GPU utilisation every 100 ms during a block (nothing on a CPU or without nvidia-smi)."
    def __init__(self, dev): self.dev, self.proc, self.samples, self.reason = dev, None, None, None
    def __enter__(self):
        import torch
        if self.dev.type != 'cuda': self.reason = 'not a CUDA device'
        elif not shutil.which('nvidia-smi'): self.reason = 'nvidia-smi not found'
        else:   # nvidia-smi counts all GPUs; under CUDA_VISIBLE_DEVICES name this one by its UUID
            uuid = getattr(torch.cuda.get_device_properties(self.dev), 'uuid', None)
            gpu = f'GPU-{uuid}' if uuid and 'CUDA_VISIBLE_DEVICES' in os.environ else str(self.dev.index or 0)
            self.proc = subprocess.Popen(['nvidia-smi', '--query-gpu=utilization.gpu', '--format=csv,noheader,nounits', '-i', gpu,
                                          '-lms', '100'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self
    def __exit__(self, *exc):
        if self.proc is None: return
        self.proc.terminate()
        out, err = self.proc.communicate(timeout=10)
        self.samples = [int(l) for l in out.split() if l.strip().isdigit()]
        if not self.samples: self.reason = f"nvidia-smi gave no samples ({err.strip()[:200] or 'no output'})"
    def summary(self) -> dict:
        "The samples' mean (as a fraction), their number, or why there are none."
        if not self.samples: return dict(mean=None, samples=0, reason=self.reason)
        return dict(mean=sum(self.samples) / len(self.samples) / 100, samples=len(self.samples), reason=None)

def check_evaluate(model, mat:Path, batch_size:int, workers:int) -> dict:
    "Wall time, images/s and how busy the device is while `evaluate` scores the .mat's test split (official protocol)."
    from clipdepth.data import NYUDepthV2
    from clipdepth.evaluation import evaluate
    data = NYUDepthV2(mat)
    with GpuUtilization(model.device) as util:
        r = evaluate(model, data, protocol='depthclip-official', batch_size=batch_size, num_workers=workers, progress=False)
    i = r.info
    return dict(frames=len(data), scored=r.summary['n_images'], batch_size=batch_size, workers=workers,
                amp='predict default (fp16 on CUDA)', wall_seconds=i['wall_seconds'], model_seconds=i['model_seconds'],
                images_per_second=i['images_per_second'], model_fraction=i['model_seconds'] / i['wall_seconds'],
                gpu_utilization=util.summary(), abs_rel=r.summary['abs_rel'])

# ---------------------------------------------------------------- training steps of every learned method
def build_method(name:str, clip_name:str|None, dev, size:tuple, **kwargs):
    "Method `name` on a random CLIP (`clip_name`, or the method's own), built for training crops of `size`, with `kwargs`."
    import torch
    from clipdepth.clip import load_clip
    from clipdepth.models import method_class
    cls = method_class(name)
    torch.manual_seed(0)
    clip = load_clip(clip_name or cls.default_clip, None, dev, quick_gelu=True)
    dataset = {'dataset': 'nyu'} if getattr(cls, 'ranges', None) else {}
    return cls(clip, device=dev, **cls.size_kwargs(*size), **dataset, **kwargs)

def train_data(mat:Path, size:tuple, scale:float):
    "The paper's NYU training items (BTS augmentation) from the .mat's training frames, dense depth."
    from clipdepth.data import NYUDepthV2
    from clipdepth.trainset import DepthTrainSet
    return DepthTrainSet(NYUDepthV2(mat, split='train', gt='dense'), 'nyu', scale=scale, size=tuple(size))

def check_training(mat:Path, dev, mode:dict, workers:int, methods:list) -> dict:
    "steps/s and peak memory of each method's training steps at its batch size, with AMP on and off (on CUDA)."
    import torch
    from clipdepth.benchmarks import benchmark_training
    from clipdepth.models import paper_recipe, paper_loss
    data, rows = train_data(mat, mode['train_size'], mode['train_scale']), []
    for name in methods:
        kwargs = mode['method_kwargs'].get(name, {})
        model, batch = build_method(name, mode['clip'], dev, mode['train_size'], **kwargs), paper_recipe(name)['batch_size']
        batch = min(batch, mode['max_batch'] or batch)
        for amp in ((True, False) if dev.type == 'cuda' else (False,)):
            r = benchmark_training(model, data, loss=paper_loss(name), steps=mode['steps'], warmup=mode['warmup'], batch_size=batch,
                                   device=dev, amp=amp, num_workers=workers)
            rows.append(dict(method=name, clip=mode['clip'] or type(model).default_clip, kwargs=kwargs, amp=amp, steps=mode['steps'],
                             images_per_second=r['steps_per_s'] * batch, **r))
        del model
        if dev.type == 'cuda': torch.cuda.empty_cache()
    return dict(frames=len(data), optimizer='adamw (benchmark_training), lr 1e-4', rows=rows)

# ---------------------------------------------------------------- torchrun: one DDP training run over 2 processes
def ddp_worker(a) -> int:
    "Under torchrun: a short `train` of DDP_METHOD in this process; rank 0 writes the result to `a.ddp_out`."
    import torch
    from clipdepth.models import paper_loss
    from clipdepth.training import train
    world, rank = int(os.environ.get('WORLD_SIZE', '1')), int(os.environ.get('RANK', '0'))
    cuda = a.device.startswith('cuda')
    dev = torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0'))) if cuda else torch.device('cpu')
    mode = MODES['quick' if a.quick else 'full']
    batch, steps = mode['max_batch'] or 8, mode['steps']
    data = train_data(Path(a.mat), mode['train_size'], mode['train_scale'])
    data = torch.utils.data.Subset(data, range(world * batch * steps))
    model = build_method(DDP_METHOD, mode['clip'], dev, mode['train_size'], **mode['method_kwargs'].get(DDP_METHOD, {}))
    t0 = time.perf_counter()
    run = train(model, data, loss=paper_loss(DDP_METHOD), lr=1e-4, epochs=1, batch_size=batch, schedule='constant', device=dev,
                amp=True, num_workers=min(2, a.workers), progress=False)
    if rank == 0:
        from clipdepth.core import save_json
        save_json(dict(method=DDP_METHOD, world=world, device=str(dev), batch_per_process=batch, steps=len(run.losses),
                       losses=run.losses, step_seconds=run.seconds, wall_seconds=time.perf_counter() - t0), a.ddp_out)
    return 0

def check_torchrun(a, dev, mat:Path, work:Path) -> dict:
    "Two processes under torchrun (NCCL on 2 GPUs, gloo with --torchrun on a CPU); skipped with fewer GPUs unless forced."
    import torch
    gpus = torch.cuda.device_count() if dev.type == 'cuda' else 0
    if a.torchrun == 'off' or (a.torchrun == 'auto' and gpus < 2):
        return dict(skipped=f"{'turned off' if a.torchrun == 'off' else f'{gpus} GPU(s) on this machine: needs 2'}")
    if dev.type == 'cuda' and gpus < 2: raise RuntimeError(f"--torchrun on needs 2 GPUs, this machine has {gpus}")
    out = work/'torchrun.json'
    out.unlink(missing_ok=True)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', __file__, '--ddp-worker',
           '--device', 'cuda' if dev.type == 'cuda' else 'cpu', '--mat', str(mat), '--ddp-out', str(out),
           '--workers', str(a.workers)]
    cmd += ['--quick'] if a.quick else []
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.torchrun_timeout)
    if p.returncode != 0 or not out.is_file():
        raise RuntimeError(f"torchrun exited with {p.returncode}: {(p.stderr or p.stdout).strip()[-1500:]}")
    return dict(**json.loads(out.read_text()), command=' '.join(cmd[1:]), launch_seconds=time.perf_counter() - t0)

# ---------------------------------------------------------------- targets, table, the run
def targets(res:dict) -> list[dict]:
    "Each target of issue #18 with its measured value and whether it is met (None: not measured, or a GPU target off a GPU)."
    st, gpu, full = res['stages'], res['machine']['device'].startswith('cuda'), not res['quick']
    rows = {r['name']: r for r in st.get('predict', {}).get('rows', [])}
    ev = st.get('evaluate', {})
    busy = (ev.get('gpu_utilization') or {}).get('mean')
    busy = ev.get('model_fraction') if busy is None else busy
    fp32, fp16 = rows.get('predict fp32', {}), rows.get('predict fp16', {})
    out = [('fp32 predict vs CPU reference (m)', fp32.get('max_diff_vs_cpu_m'), '<=', TARGETS['fp32_vs_cpu_m'], True),
           ('fp16 predict vs fp32 (m)', fp16.get('max_diff_vs_fp32_m'), '<=', TARGETS['fp16_vs_fp32_m'], gpu),
           ('fp16 predict speed-up over the official loop', fp16.get('speedup'), '>=', TARGETS['fp16_speedup'], gpu),
           ('evaluate NYU-654, official protocol (s)', ev.get('wall_seconds'), '<=', TARGETS['evaluate_seconds'], gpu and full),
           ('GPU busy during evaluate (fraction)', busy, '>=', TARGETS['gpu_busy'], gpu and full)]
    met = lambda v, op, t: None if v is None else (v <= t if op == '<=' else v >= t)
    def note(v, applies):
        if not applies: return 'a GPU target: not judged on this device or in quick mode'
        return None if v is not None else 'not measured'
    return [dict(name=n, value=v, target=f'{op} {t:g}', met=met(v, op, t) if applies else None, note=note(v, applies))
            for n, v, op, t, applies in out]

def _f(v, spec:str) -> str: return '–' if v is None else format(v, spec)

def stage_lines(name:str, s:dict) -> list[str]:
    "The table's lines for one stage."
    if s.get('status') == 'failed': return [f"{name}: FAILED after {s['seconds']:.1f} s: {s['error']}"]
    if 'skipped' in s: return [f"{name}: skipped ({s['skipped']})"]
    if name == 'cuda':
        g = ', '.join(f"{x['name']} (sm {x['capability']}, {x['memory_gib']:.0f} GiB)" for x in s['gpus']) or 'no GPU'
        return [f"cuda: {s['device']}; {g}; torch {s['torch']}, CUDA {s['cuda']}, cuDNN {s['cudnn']}; {s['cpus']} CPUs; "
                f"TF32 cudnn={s['tf32']['cudnn']} matmul={s['tf32']['matmul']}; matmul vs CPU {s['matmul_vs_cpu']:.1e}"]
    if name == 'predict':
        c = s['cpu_reference']
        head = [f"predict: {s['model']}, temperature {s['temperature']:g}, {s['n']} images at 416x544, batch {s['batch_size']}, "
                f"{s['workers']} workers; CPU reference on {c['images']} images ({c['seconds']:.1f} s, "
                f"depth std {c['depth_std_m']:.3f} m)",
                f"  {'':24}{'img/s':>9}{'speed-up':>10}{'|d| official':>14}{'|d| fp32':>10}{'|d| CPU':>10}"]
        head += [f"  note: {s['note']}"] if s['note'] else []
        return head + [f"  {r['name']:24}{r['images_per_second']:9.2f}{_f(r.get('speedup'), '9.2f'):>9}x"
                       f"{_f(r.get('max_diff_vs_official_m'), '14.1e'):>14}{_f(r.get('max_diff_vs_fp32_m'), '10.1e'):>10}"
                       f"{_f(r.get('max_diff_vs_cpu_m'), '10.1e'):>10}" for r in s['rows']]
    if name == 'data':
        how = 'reused' if s['reused'] else f"written in {s['seconds']:.1f} s"
        return [f"data: a generated {s['frames']}-frame 480x640 NYU .mat, {s['bytes'] / 2**30:.2f} GiB, {how}: {s['path']}"]
    if name == 'evaluate':
        u = s['gpu_utilization']
        why = '; ' + u['reason'] if u['reason'] else ''
        return [f"evaluate: {s['scored']} of {s['frames']} test frames scored, official protocol, batch {s['batch_size']}, "
                f"{s['workers']} workers",
                f"  wall {s['wall_seconds']:.1f} s, {s['images_per_second']:.1f} img/s, in predict {100 * s['model_fraction']:.0f}% "
                f"of the wall time, GPU utilisation {_f(u['mean'] and 100 * u['mean'], '.0f')}% ({u['samples']} samples{why})"]
    if name == 'train':
        head = [f"train: {s['frames']} generated frames, {s['optimizer']}",
                f"  {'method':16}{'clip':>18}{'batch':>6}{'input':>10}{'amp':>6}{'steps/s':>9}{'img/s':>8}{'peak MiB':>10}"]
        return head + [f"  {r['method']:16}{r['clip']:>18}{r['batch_size']:6}{'x'.join(map(str, r['input'])):>10}{str(r['amp']):>6}"
                       f"{r['steps_per_s']:9.2f}{r['images_per_second']:8.1f}{r['peak_mb']:10.0f}" for r in s['rows']]
    return [f"torchrun: {s['world']} processes on {s['device']}, {s['method']}, batch {s['batch_per_process']} each: {s['steps']} steps, "
            f"{1000 * sum(s['step_seconds']) / s['steps']:.0f} ms/step, losses {', '.join(f'{l:.3f}' for l in s['losses'])}"]

def table(res:dict) -> str:
    "The whole result as text: one block per stage, then the targets."
    lines = [f"gpu_check ({'quick, tiny models' if res['quick'] else 'full'}) on {res['machine']['device']}, "
             f"{res['wall_seconds']:.0f} s in all"]
    for name, s in res['stages'].items(): lines += stage_lines(name, s)
    lines.append('targets:')
    for t in res['targets']:
        mark = '--' if t['met'] is None else 'ok' if t['met'] else 'NO'
        lines.append(f"  [{mark}] {t['name']}: {_f(t['value'], '.3g')} (target {t['target']}){'; ' + t['note'] if t['note'] else ''}")
    return '\n'.join(lines)

def run_stage(res:dict, name:str, fn, out:Path|None):
    "Run stage `name`, record its result or its error and its time, and rewrite the JSON."
    from clipdepth.core import save_json
    t0 = time.perf_counter()
    try:
        r = fn()
        res['stages'][name] = dict(status='skipped' if 'skipped' in r else 'ok', **r)
    except Exception as e:
        msg = str(e).strip().splitlines()[0][:300] if str(e).strip() else ''
        res['stages'][name] = dict(status='failed', error=f'{type(e).__name__}: {msg}', traceback=traceback.format_exc()[-3000:])
        print(res['stages'][name]['traceback'], file=sys.stderr)
    res['stages'][name]['seconds'] = time.perf_counter() - t0
    if out is not None: save_json(res, out)

def parse_args(argv=None) -> argparse.Namespace:
    "The command line."
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda', help='cuda, cuda:N or cpu (default: cuda)')
    p.add_argument('--quick', action='store_true', help='tiny models, tiny sizes and few frames: the same stages in seconds (CI)')
    p.add_argument('--out', help='the JSON file to write (rewritten after each stage)')
    p.add_argument('--work', help='folder for the generated .mat (kept and reused; default: a new temporary folder)')
    p.add_argument('--stages', nargs='+', choices=STAGES, default=list(STAGES), help='which stages to run (default: all)')
    p.add_argument('--methods', nargs='+', help='learned methods to train (default: all of clipdepth.models.trainable_methods())')
    p.add_argument('--workers', type=int, help='loader processes (default: min(8, CPUs) on CUDA, 1 in quick mode)')
    p.add_argument('--steps', type=int, help='timed training steps per method (default: 10 after 3 warm-up steps; quick: 1)')
    p.add_argument('--torchrun', choices=['auto', 'on', 'off'], default='auto',
                   help='the 2-process step: auto runs it with 2+ GPUs; on also runs it on a CPU (gloo)')
    p.add_argument('--torchrun-timeout', type=int, default=180, help='seconds the torchrun step may take (default: 180)')
    p.add_argument('--ddp-worker', action='store_true', help=argparse.SUPPRESS)   # one process of the torchrun step
    p.add_argument('--mat', help=argparse.SUPPRESS); p.add_argument('--ddp-out', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.out and not Path(a.out).resolve().parent.is_dir(): p.error(f"{Path(a.out).parent}: output folder does not exist")
    if a.work and not Path(a.work).is_dir(): p.error(f"{a.work}: --work folder does not exist")
    if a.workers is not None and a.workers < 0: p.error(f"--workers must be >= 0, not {a.workers}")
    if a.steps is not None and a.steps < 1: p.error(f"--steps must be >= 1, not {a.steps}")
    return a

def main(argv=None) -> int:
    "Run the asked stages, write the JSON, print the table; 1 if a stage failed."
    a = parse_args(argv)
    if a.workers is None: a.workers = 1 if a.quick else min(8, os.cpu_count() or 1)
    if a.ddp_worker: return ddp_worker(a)
    import torch
    from clipdepth.core import resolve_device
    try: dev = resolve_device(a.device)
    except (ValueError, RuntimeError) as e: sys.exit(f"gpu_check: {e}")
    mode = dict(MODES['quick' if a.quick else 'full'], **({'steps': a.steps} if a.steps else {}))
    from clipdepth.models import trainable_methods
    methods = a.methods or trainable_methods()
    if bad := [m for m in methods if m not in trainable_methods()]:
        sys.exit(f"gpu_check: not a learned method: {', '.join(bad)} (use {', '.join(trainable_methods())})")
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix='clipdepth-gpu-check-'))
    out, t0 = Path(a.out) if a.out else None, time.perf_counter()
    res = dict(format='clipdepth-gpu-check/1', command=' '.join(sys.argv), quick=a.quick,
               started=datetime.datetime.now().isoformat(timespec='seconds'), machine=machine_info(dev), mode=mode, stages={})
    mat = work/f"nyu_fake_{mode['mat_frames']}.mat"
    if 'cuda' in a.stages: run_stage(res, 'cuda', lambda: check_cuda(dev), out)
    if {'evaluate', 'train', 'torchrun'} & set(a.stages): run_stage(res, 'data', lambda: ensure_mat(mat, mode['mat_frames']), out)
    if {'predict', 'evaluate'} & set(a.stages):
        from clipdepth.clip import load_clip
        from clipdepth.depthclip import DepthCLIP, NYU_CROP
        torch.manual_seed(0)
        model = DepthCLIP(load_clip(mode['clip'] or 'RN50', None, dev, quick_gelu=True), crop=NYU_CROP,   # the official box, as official_loop
                          **({'temperature': mode['temperature']} if mode['temperature'] else {}))
        name = dict(model=mode['clip'] or 'RN50 (random weights)')
        if 'predict' in a.stages:
            run_stage(res, 'predict', lambda: dict(**name, **check_predict(model, nyu_frames(mode['predict_n']), mode['batch_size'],
                                                                             a.workers, mode['ref_n'])), out)
        if 'evaluate' in a.stages:
            run_stage(res, 'evaluate', lambda: dict(**name, **check_evaluate(model, mat, mode['batch_size'], a.workers)), out)
        del model
    if 'train' in a.stages: run_stage(res, 'train', lambda: check_training(mat, dev, mode, a.workers, methods), out)
    if 'torchrun' in a.stages: run_stage(res, 'torchrun', lambda: check_torchrun(a, dev, mat, work), out)
    res['wall_seconds'] = time.perf_counter() - t0
    res['targets'] = targets(res)
    if out is not None:
        from clipdepth.core import save_json
        save_json(res, out)
    print(table(res))
    return 1 if any(s['status'] == 'failed' for s in res['stages'].values()) else 0

if __name__ == '__main__': sys.exit(main())
