"""mnistlib: the shared code of the MNIST from Scratch notebooks."""
