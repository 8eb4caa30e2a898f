from .ground_truth import stack_gt, valid_mask, valid_pixels
from .head_outputs import HeadOutputs
from .multitask_data_sample import MultiTaskDataSample
from .tasks import (BINARY, CONTINUOUS, DISCRETE, TASKS, LabelEncoding,
                    MetricSpec, TaskSpec, check_tasks, get_task,
                    task_of_results_key)

__all__ = [
    'HeadOutputs', 'MultiTaskDataSample', 'TASKS', 'TaskSpec', 'MetricSpec',
    'LabelEncoding', 'get_task', 'check_tasks', 'task_of_results_key',
    'DISCRETE', 'CONTINUOUS', 'BINARY', 'stack_gt', 'valid_mask',
    'valid_pixels'
]
