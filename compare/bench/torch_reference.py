"""The lecture's CNN in PyTorch eager mode: an outside reference for `bench`, not lecture code.

The same layers, Adam (epsilon 1e-7, as Keras) and mean cross-entropy; images go NCHW, as
PyTorch's convolutions expect.
"""

import importlib.util
import time


def torch_available():
    return importlib.util.find_spec("torch") is not None


def train_torch(dataset, batch_size, epochs, seed):
    """One timed training run: {"trace_seconds", "steady_samples_per_second",
    "inference_samples_per_second"}; eager mode traces nothing, so the first figure is warm-up."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(5408, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    images = (
        torch.from_numpy(dataset.x_train).permute(0, 3, 1, 2).contiguous()
    )  # (N, 1, 28, 28)
    labels = torch.from_numpy(dataset.y_train).long()
    samples = len(images)
    start, epoch_ends = time.perf_counter(), []
    for _ in range(epochs):
        order = torch.randperm(samples)
        for first in range(0, samples, batch_size):
            batch = order[first : first + batch_size]
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epoch_ends.append(time.perf_counter())
    steady = (
        samples * (epochs - 1) / (epoch_ends[-1] - epoch_ends[0])
        if epochs > 1
        else None
    )
    warm_up = None if steady is None else epoch_ends[0] - start - samples / steady
    return {
        "trace_seconds": warm_up,
        "steady_samples_per_second": steady,
        "inference_samples_per_second": timed_torch_inference(
            model, dataset, batch_size
        ),
    }


def timed_torch_inference(model, dataset, batch_size):
    import torch

    test_images = torch.from_numpy(dataset.x_test).permute(0, 3, 1, 2).contiguous()

    def predict_all():
        with torch.no_grad():
            for first in range(0, len(test_images), batch_size):
                model(test_images[first : first + batch_size]).argmax(dim=1)

    predict_all()
    start = time.perf_counter()
    predict_all()
    return len(test_images) / (time.perf_counter() - start)
