using Smnist.Data;
using Smnist.Optim;

namespace Smnist.Training;

/// <summary>
/// A named set of starting options for training on images, such as <c>smnist train --recipe</c> offers; options
/// given by the user replace the recipe's one by one (<c>Recipe.Best.Options with { Epochs = 5 }</c>).
/// </summary>
/// <param name="Name">How the command line names it.</param>
/// <param name="Description">What it sets, in a few words.</param>
/// <param name="Options">Its options.</param>
/// <param name="NamesView">Whether the recipe's sequence view is part of it (so it wins over the view of weights it starts from).</param>
public sealed record Recipe(string Name, string Description, TrainingOptions Options, bool NamesView)
{
    /// <summary>Adam 2e-3 with per-step cosine decay to zero over 15 epochs and forget-gate bias 1, on rows.</summary>
    public static Recipe Best { get; } = new("best", "rows; Adam 2e-3, cosine decay, forget bias 1, 15 epochs", new TrainingOptions(), NamesView: false);

    /// <summary>The notebook exactly: Adam at 1e-3, constant, nn.Linear's initialisation, 10 epochs.</summary>
    public static Recipe Notebook { get; } = new("notebook", "the notebook's own: Adam 1e-3, constant, nn.Linear init, 10 epochs", new TrainingOptions
    {
        Epochs = 10,
        LearningRate = 1e-3f,
        Schedule = LearningRateSchedule.Constant,
        ForgetBias = null,
    }, NamesView: false);

    /// <summary>
    /// One pixel per step (784 steps): Adam 1e-3 with cosine decay, gradient norm clipped to 1, no augmentation,
    /// 14 epochs, and a long-memory start — forget-gate bias 5 and input-gate bias −5 — without which the network
    /// sits at loss 2.30: the blank rows at the end of every image erase what a forget gate near σ(1) kept.
    /// </summary>
    public static Recipe Pixels { get; } = new("pixels", "784 steps of one pixel; Adam 1e-3, cosine, forget bias 5, input bias -5, clip 1, no augmentation, 14 epochs", new TrainingOptions
    {
        View = SequenceView.Pixels,
        Epochs = 14,
        LearningRate = 1e-3f,
        ForgetBias = 5f,
        InputBias = -5f,
        ClipNorm = 1f,
        Augment = false,
    }, NamesView: true);

    /// <summary>
    /// Permuted pixels (784 steps in a fixed random order): Adam 1e-3 with cosine decay, gradient norm clipped to 1,
    /// forget-gate bias 1, the notebook's augmentation, 50 epochs. Without a blank stretch at the end of the sequence the
    /// long-memory start of <see cref="Pixels"/> is not needed, and it learns more slowly here (47.5 % after 5 epochs
    /// against 45.2 % after 1 and 57.9 % after 2).
    /// </summary>
    public static Recipe Permuted { get; } = new("permuted", "784 permuted pixels; Adam 1e-3, cosine, forget bias 1, clip 1, augmentation, 50 epochs",
        Pixels.Options with { View = SequenceView.Permuted, Epochs = 50, ForgetBias = 1f, InputBias = null, Augment = true }, NamesView: true);

    /// <summary>
    /// Pen paths (<see cref="SequenceView.Strokes"/>, tens of steps of dx, dy, end of stroke, end of digit): hidden 128,
    /// Adam 2e-3 with cosine decay, forget-gate bias 1, gradient norm clipped to 1, 20 epochs, augmented by warping the
    /// points and reordering and reversing strokes (<see cref="Data.Strokes.StrokeAugmentation"/>) — no pixels are read, so no image warp.
    /// </summary>
    public static Recipe Strokes { get; } = new("strokes", "pen paths; Adam 2e-3, cosine, forget bias 1, clip 1, stroke augmentation, 20 epochs", new TrainingOptions
    {
        View = SequenceView.Strokes,
        Hidden = 128,
        Epochs = 20,
        ClipNorm = 1f,
        Augment = true,
    }, NamesView: true);

    /// <summary>Every recipe, <see cref="Best"/> first.</summary>
    public static IReadOnlyList<Recipe> All { get; } = [Best, Notebook, Pixels, Permuted, Strokes];
}
