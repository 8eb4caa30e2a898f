from .multitask_visualizer import MultiTaskVisualizer, unpadded_gt
from .panels import (colorbar, colorize_task, draw_task_panel, legend,
                     panel_size)

__all__ = [
    'MultiTaskVisualizer', 'colorize_task', 'draw_task_panel', 'colorbar',
    'legend', 'panel_size', 'unpadded_gt'
]
