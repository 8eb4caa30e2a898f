# Copyright (c) OpenMMLab. All rights reserved.
"""Compare every config's resolved dict, and the synthetic configs' model
outputs, between two states of the repository.

A config redesign (new ``_base_`` files, renamed schedules, shorter leaves)
must leave what a config *means* unchanged. This script makes that checkable:

1. ``dump`` writes the fully resolved dict of every config under
   ``configs/`` (``Config.fromfile(...).to_dict()``, normalised to JSON) for
   the working tree or for a git revision (``--rev``, read with
   ``git archive`` into a temporary folder, nothing is checked out)::

       python .dev_scripts/compare_configs.py dump --rev 372fe52 \
           --out work_dirs/configs_before.json
       python .dev_scripts/compare_configs.py dump \
           --out work_dirs/configs_after.json

2. ``compare`` reports, per config, every key path whose value differs, is
   missing or was added. A small mapping file (JSON) declares what is
   intentional::

       {"files": {"configs/a/old.py": "configs/a/new.py"},
        "keys": {"model.decode_head.old_key": "model.decode_head.new_key"},
        "ignore": ["view_pipeline"]}

   ``files`` pairs renamed configs, ``keys`` renames dotted key paths (in
   every config) before comparing, and ``ignore`` drops dotted key paths
   (e.g. a helper variable of a base file that no longer exists).
   ``removed`` lists configs deleted on purpose (partial bases folded into
   ``_base_``), ``added`` the configs new on purpose, and ``documented`` lists intended value changes, each
   ``{"configs": "<glob>", "key": "<dotted path>", "reason": "..."}``:
   a difference at or below ``key`` in a matching config is printed as
   documented instead of failing. The command exits with 1 when a runner
   key differs without such an entry, or a config appears or disappears
   unannounced, so it can gate a change (``--strict``: helper variables
   too).

3. ``outputs`` builds every synthetic config's model with a fixed seed, runs
   it on a fixed input in ``tensor`` mode and writes a digest of each output
   tensor; ``compare-outputs`` compares two such dumps exactly. ``--rev``
   runs the models of a revision's configs with this checkout's ``mmmtl``
   (the configs are what changes, the code is the same).

The top-level keys the runner and the mmmtl tools read are reported first;
a difference only in a helper variable of a base file (``dataset_type``,
``norm_cfg`` ...) is listed separately, since it changes nothing by itself.
"""
import argparse
import fnmatch
import hashlib
import json
import logging
import os
import os.path as osp
import subprocess
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# Keys that mmengine's Runner.from_cfg and the mmmtl tools read; everything
# else at the top level of a config is a helper variable of its files.
RUNNER_KEYS = frozenset([
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'custom_imports', 'model_wrapper_cfg', 'nonfinite_loss',
    'loss_spike_ratio', 'crop_size', 'test_pipeline', 'tasks', 'runner_type'
])

MISSING = '<missing>'


def list_configs(root: str) -> List[str]:
    """Config files below ``root/configs`` except ``_base_``, sorted.

    Args:
        root (str): Repository root.

    Returns:
        list[str]: Paths relative to ``root`` with forward slashes.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(osp.join(root, 'configs')):
        dirnames[:] = sorted(d for d in dirnames if d != '_base_')
        for name in sorted(filenames):
            if name.endswith('.py'):
                rel = osp.relpath(osp.join(dirpath, name), root)
                found.append(rel.replace(os.sep, '/'))
    return sorted(found)


def normalise(value: Any) -> Any:
    """Make a resolved config value JSON-comparable.

    Tuples become lists (JSON has no tuples, and a tuple/list swap changes
    nothing a builder sees), dict keys are sorted by ``json.dumps``, and
    anything that is not a JSON scalar is written as its ``repr``.

    Args:
        value: A value of ``Config.to_dict()``.

    Returns:
        A JSON-serialisable value.
    """
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def resolve_config(path: str) -> Dict[str, Any]:
    """Load one config file and return its normalised resolved dict.

    Custom imports are not executed: the dict does not depend on them.

    Args:
        path (str): Absolute path of the config file.

    Returns:
        dict: The normalised dict, or ``{'__error__': message}`` when the
        file cannot be loaded (a broken config is a difference too).
    """
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(path, import_custom_modules=False)
    except Exception as exc:  # reported per config, not fatal for the dump
        return {'__error__': f'{type(exc).__name__}: {exc}'}
    return normalise(cfg.to_dict())


def export_revision(rev: str, dest: str, paths: Tuple[str, ...]) -> None:
    """Write ``paths`` of git revision ``rev`` into ``dest`` (no checkout).

    Args:
        rev (str): Any git revision.
        dest (str): An existing, empty folder.
        paths (tuple[str]): Repository paths to export.
    """
    archive = subprocess.run(['git', 'archive', rev, *paths],
                             cwd=REPO_ROOT,
                             check=True,
                             stdout=subprocess.PIPE).stdout
    subprocess.run(['tar', '-x', '-C', dest], input=archive, check=True)


def dump_configs(root: str) -> Dict[str, Any]:
    """Resolved dicts of every config below ``root``.

    Args:
        root (str): Repository root (or an exported revision).

    Returns:
        dict: Relative config path -> normalised resolved dict.
    """
    return {rel: resolve_config(osp.join(root, rel))
            for rel in list_configs(root)}


def flatten(value: Any, prefix: str = '') -> Iterator[Tuple[str, Any]]:
    """Yield ``(dotted_path, leaf_value)`` pairs of a nested value.

    List items are addressed by index (``train_pipeline.2.type``); an empty
    dict or list is a leaf of its own.
    """
    if isinstance(value, dict) and value:
        for key in sorted(value):
            yield from flatten(value[key], f'{prefix}{key}.')
    elif isinstance(value, list) and value:
        for idx, item in enumerate(value):
            yield from flatten(item, f'{prefix}{idx}.')
    else:
        yield prefix[:-1], value


def apply_key_mapping(flat: Dict[str, Any], keys: Dict[str, str],
                      ignore: List[str]) -> Dict[str, Any]:
    """Rename and drop dotted key paths of a flattened config.

    A mapping entry renames the key path and everything below it; an
    ``ignore`` entry drops the path and everything below it.
    """
    out = {}
    for path, value in flat.items():
        if any(path == ig or path.startswith(ig + '.') for ig in ignore):
            continue
        for old, new in keys.items():
            if path == old or path.startswith(old + '.'):
                path = new + path[len(old):]
                break
        out[path] = value
    return out


def compare_dumps(before: Dict[str, Any], after: Dict[str, Any],
                  mapping: Dict[str, Any]) -> Dict[str, Any]:
    """Per-config differences between two dumps.

    Args:
        before (dict): Dump of the old state.
        after (dict): Dump of the new state.
        mapping (dict): ``files`` (old -> new config path), ``keys``
            (old -> new dotted key path, applied to the old dump) and
            ``ignore`` (dotted key paths dropped on both sides).

    Returns:
        dict: ``removed`` / ``added`` config paths (``removed_documented``:
        those the mapping announces), and ``changed``: config -> list of
        ``(key_path, before, after, is_runner_key, documented_reason)``.
    """
    files = mapping.get('files', {})
    keys = mapping.get('keys', {})
    ignore = mapping.get('ignore', [])
    documented = mapping.get('documented', [])
    for old, new in files.items():
        if old not in before:
            raise KeyError(f'mapping "files": {old!r} is not a config of '
                           'the old dump')
        if new not in after:
            raise KeyError(f'mapping "files": {new!r} (the new name of '
                           f'{old!r}) is not a config of the new dump')
    renamed = {files.get(k, k): k for k in before}
    report = {
        'removed': sorted(k for k in before
                          if files.get(k, k) not in after),
        'added': sorted(k for k in after if k not in renamed),
        'changed': {},
    }
    for new_path in sorted(set(after) & set(renamed)):
        old_flat = apply_key_mapping(
            dict(flatten(before[renamed[new_path]])), keys, ignore)
        new_flat = apply_key_mapping(
            dict(flatten(after[new_path])), {}, ignore)
        diffs = []
        for path in sorted(set(old_flat) | set(new_flat)):
            old_val = old_flat.get(path, MISSING)
            new_val = new_flat.get(path, MISSING)
            if old_val != new_val:
                top = path.split('.', 1)[0]
                diffs.append((path, old_val, new_val, top in RUNNER_KEYS))
        if diffs:
            report['changed'][new_path] = [
                d + (documented_reason(new_path, d[0], documented), )
                for d in diffs
            ]
    removed_ok = set(mapping.get('removed', []))
    report['removed_documented'] = sorted(
        p for p in report['removed'] if p in removed_ok)
    report['removed'] = sorted(
        p for p in report['removed'] if p not in removed_ok)
    added_ok = set(mapping.get('added', []))
    report['added_documented'] = sorted(
        p for p in report['added'] if p in added_ok)
    report['added'] = sorted(p for p in report['added'] if p not in added_ok)
    return report


def documented_reason(config: str, key_path: str,
                      documented: List[Dict[str, str]]) -> Optional[str]:
    """The reason of the ``documented`` entry covering a difference."""
    for entry in documented:
        key = entry['key']
        if fnmatch.fnmatch(config, entry['configs']) and (
                key_path == key or key_path.startswith(key + '.')):
            return entry['reason']
    return None


def print_report(report: Dict[str, Any], max_rows: int,
                 strict: bool = False) -> int:
    """Print a comparison report.

    Args:
        report (dict): Output of :func:`compare_dumps`.
        max_rows (int): Differences shown per config and kind.
        strict (bool): Count helper-variable differences as failures.

    Returns:
        int: The number of differences that fail the comparison.
    """
    failures = 0
    for title, paths in (('configs only in the old state',
                          report['removed']),
                         ('configs only in the new state', report['added']),
                         ('configs removed as announced',
                          report.get('removed_documented', [])),
                         ('configs added as announced',
                          report.get('added_documented', []))):
        if paths:
            print(f'{title} ({len(paths)}):')
            for path in paths:
                print(f'  {path}')
    failures += len(report['removed']) + len(report['added'])
    reasons: Dict[str, List[str]] = {}
    for cfg_path, diffs in report['changed'].items():
        groups = dict(
            runner=[d for d in diffs if d[3] and d[4] is None],
            helper=[d for d in diffs if not d[3] and d[4] is None],
            documented=[d for d in diffs if d[4] is not None])
        for d in groups['documented']:
            reasons.setdefault(d[4], []).append(cfg_path)
        print(f'{cfg_path}: ' + ', '.join(
            f'{len(rows)} {name}' for name, rows in groups.items()))
        for name in ('runner', 'helper'):
            rows = groups[name]
            for path, old, new, _, _ in rows[:max_rows]:
                print(f'  [{name}] {path}: {json.dumps(old)} -> '
                      f'{json.dumps(new)}')
            if len(rows) > max_rows:
                print(f'  [{name}] ... {len(rows) - max_rows} more')
        failures += len(groups['runner'])
        if strict:
            failures += len(groups['helper'])
    for reason, cfgs in reasons.items():
        print(f'documented ({len(set(cfgs))} configs): {reason}')
    print(f'{len(report["changed"])} config(s) differ, '
          f'{len(report["removed"])} removed, {len(report["added"])} added, '
          f'{failures} undocumented difference(s)'
          f'{" (runner keys only)" if not strict else ""}')
    return failures


def load_mapping(path: Optional[str]) -> Dict[str, Any]:
    """Read and check a mapping file (see the module docstring)."""
    if path is None:
        return {}
    with open(path, encoding='utf-8') as f:
        mapping = json.load(f)
    allowed = {'files', 'keys', 'ignore', 'removed', 'added', 'documented',
               'comment'}
    unknown = set(mapping) - allowed
    if unknown:
        raise ValueError(f'{path}: unknown top-level key(s) '
                         f'{sorted(unknown)}; expected some of '
                         f'{sorted(allowed)}')
    for idx, entry in enumerate(mapping.get('documented', [])):
        missing = {'configs', 'key', 'reason'} - set(entry)
        if missing:
            raise ValueError(f'{path}: "documented"[{idx}] lacks '
                             f'{sorted(missing)}; each entry needs '
                             '"configs", "key" and "reason"')
    return mapping


def tensor_digest(tensor) -> Dict[str, Any]:
    """Shape, dtype and SHA-256 of a tensor's bytes (exact comparison)."""
    arr = tensor.detach().cpu().contiguous().numpy()
    return dict(shape=list(arr.shape), dtype=str(arr.dtype),
                sha256=hashlib.sha256(arr.tobytes()).hexdigest())


def collect_digests(value: Any, prefix: str = '') -> Dict[str, Any]:
    """Digest every tensor in a nested forward output."""
    import torch
    out = {}
    if isinstance(value, torch.Tensor):
        out[prefix[:-1] or 'output'] = tensor_digest(value)
    elif isinstance(value, dict):
        for key in sorted(value):
            out.update(collect_digests(value[key], f'{prefix}{key}.'))
    elif isinstance(value, (list, tuple)):
        for idx, item in enumerate(value):
            out.update(collect_digests(item, f'{prefix}{idx}.'))
    elif hasattr(value, '__dataclass_fields__'):
        for key in sorted(value.__dataclass_fields__):
            out.update(
                collect_digests(getattr(value, key), f'{prefix}{key}.'))
    return out


def model_output_digests(path: str, seed: int) -> Dict[str, Any]:
    """Build a config's model with ``seed`` and digest its tensor outputs.

    The input is a fixed random image at the size of the
    config's ``crop_size`` (or 64x64), fed through the model's data
    preprocessor, in eval mode so that dropout and batch statistics do not
    depend on the order of random draws.

    Args:
        path (str): Config file.
        seed (int): Seed of the weights and the input.

    Returns:
        dict: Output key -> digest, or ``{'__error__': message}``.
    """
    import torch
    from mmengine.config import Config
    from mmengine.logging import MMLogger
    from mmengine.runner import set_random_seed

    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import mmmtl  # noqa: F401  (registers the modules)
    init_default_scope('mmseg')
    # init_weights logs one entry per parameter; keep the dump readable.
    MMLogger.get_current_instance().setLevel(logging.ERROR)
    cfg = Config.fromfile(path, import_custom_modules=False)
    height, width = cfg.get('crop_size', (64, 64))
    try:
        set_random_seed(seed, deterministic=True)
        model = MODELS.build(cfg.model)
        model.init_weights()
        model.eval()
        gen = torch.Generator().manual_seed(seed)
        images = torch.randint(0, 256, (1, 3, height, width),
                               generator=gen, dtype=torch.uint8)
        data = dict(inputs=[img for img in images], data_samples=None)
        with torch.no_grad():
            batch = model.data_preprocessor(data, training=False)
            outputs = model(batch['inputs'], None, mode='tensor')
    except Exception as exc:  # reported per config
        return {'__error__': f'{type(exc).__name__}: {exc}'}
    return collect_digests(outputs)


def synthetic_configs(root: str) -> List[str]:
    """Configs of the synthetic dataset (the ones CPU tests train)."""
    return [p for p in list_configs(root) if 'synthetic' in osp.basename(p)]


def with_revision(rev: Optional[str], paths: Tuple[str, ...], func, *args):
    """Run ``func(root, *args)`` on the working tree or on ``rev``."""
    if rev is None:
        return func(REPO_ROOT, *args)
    with tempfile.TemporaryDirectory(prefix='compare_configs_') as tmp:
        export_revision(rev, tmp, paths)
        return func(tmp, *args)


def dump_outputs(root: str, seed: int) -> Dict[str, Any]:
    """Output digests of every synthetic config below ``root``."""
    return {rel: model_output_digests(osp.join(root, rel), seed)
            for rel in synthetic_configs(root)}


def write_json(obj: Any, path: str) -> None:
    """Write ``obj`` as indented, key-sorted JSON (creating folders)."""
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write('\n')


def read_json(path: str) -> Any:
    """Read a JSON dump written by this script."""
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def compare_outputs(before: Dict[str, Any], after: Dict[str, Any],
                    files: Dict[str, str]) -> int:
    """Print output-digest differences; return how many configs differ."""
    renamed = {files.get(k, k): k for k in before}
    differ = 0
    for new_path in sorted(set(after) | set(renamed)):
        old = before.get(renamed.get(new_path, new_path))
        new = after.get(new_path)
        if old is None or new is None:
            print(f'{new_path}: only in the '
                  f'{"new" if old is None else "old"} state')
            differ += 1
        elif '__error__' in old or '__error__' in new:
            print(f'{new_path}: could not run: '
                  f'{old.get("__error__", "")} | {new.get("__error__", "")}')
            differ += 1
        elif old != new:
            keys = sorted(k for k in set(old) | set(new)
                          if old.get(k) != new.get(k))
            print(f'{new_path}: outputs differ: {", ".join(keys)}')
            differ += 1
        else:
            print(f'{new_path}: identical ({len(new)} tensors)')
    print(f'{differ} synthetic config(s) differ')
    return differ


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    dump = sub.add_parser('dump', help='dump every resolved config')
    dump.add_argument('--rev', help='git revision (default: working tree)')
    dump.add_argument('--out', required=True, help='JSON file to write')
    cmp = sub.add_parser('compare', help='compare two config dumps')
    cmp.add_argument('before')
    cmp.add_argument('after')
    cmp.add_argument('--mapping', help='JSON file of intended renames')
    cmp.add_argument('--max-rows', type=int, default=20,
                     help='differences shown per config and kind')
    cmp.add_argument('--strict', action='store_true',
                     help='helper-variable differences fail too')
    out = sub.add_parser('outputs', help='dump synthetic model outputs')
    out.add_argument('--rev', help='git revision of the configs')
    out.add_argument('--out', required=True)
    out.add_argument('--seed', type=int, default=0)
    cmp_out = sub.add_parser('compare-outputs',
                             help='compare two output dumps')
    cmp_out.add_argument('before')
    cmp_out.add_argument('after')
    cmp_out.add_argument('--mapping', help='JSON file of intended renames')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.command == 'dump':
        dumped = with_revision(args.rev, ('configs', ), dump_configs)
        write_json(dumped, args.out)
        errors = sorted(k for k, v in dumped.items() if '__error__' in v)
        print(f'{len(dumped)} configs written to {args.out}'
              + (f'; {len(errors)} failed to load: {errors}'
                 if errors else ''))
        return 0
    if args.command == 'compare':
        report = compare_dumps(
            read_json(args.before), read_json(args.after),
            load_mapping(args.mapping))
        return 1 if print_report(report, args.max_rows, args.strict) else 0
    if args.command == 'outputs':
        dumped = with_revision(args.rev, ('configs', ),
                               dump_outputs, args.seed)
        write_json(dumped, args.out)
        print(f'{len(dumped)} synthetic configs written to {args.out}')
        return 0
    mapping = load_mapping(args.mapping)
    return 1 if compare_outputs(
        read_json(args.before), read_json(args.after),
        mapping.get('files', {})) else 0


if __name__ == '__main__':
    sys.exit(main())
