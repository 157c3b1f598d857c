using Smnist.Data;
using Smnist.Nn;

namespace Smnist.Training;

public static class Predictor
{
    /// <summary>Class probabilities (softmax of the logits) for one 28×28 image in MNIST's convention (white digit on black).</summary>
    public static float[] Probabilities(SequenceClassifier<float> model, SequenceLayout sequence, ReadOnlySpan<byte> image)
    {
        if (image.Length != ImageSet.Pixels)
            throw new ArgumentException($"an image has {ImageSet.Pixels} pixels, not {image.Length}", nameof(image));
        var workspace = new Workspace<float>(model.Config, sequence.Steps, maxBatch: 1);
        for (int element = 0; element < ImageSet.Pixels; element++)
            workspace.Inputs[element] = image[sequence.PixelAt(element)] / 255f;
        model.Forward(workspace, batch: 1);
        var probabilities = workspace.Logits.AsSpan(0, model.Config.Classes).ToArray();
        System.Numerics.Tensors.TensorPrimitives.SoftMax(probabilities, probabilities);
        return probabilities;
    }
}
