using System.Reflection;
using Google.Protobuf;
using Onnx;
using Smnist.Data;
using Smnist.Nn;

namespace Smnist.IO;

/// <summary>
/// Writes a plain LSTM model (not one with <see cref="ModelConfig.RefineGate"/>, which it refuses) as a standard ONNX graph (opset 17) that ONNX Runtime, ML.NET or onnxruntime-web run as is:
/// input <c>input</c> [batch, T, d] float32 — pixels in [0, 1], in their natural order for every view —,
/// output <c>logits</c> [batch, classes]. Each layer is one ONNX <c>LSTM</c> operator; the readout is a <c>Gemm</c>
/// on the last layer's final output; the permuted view's pixel order is a <c>Gather</c> in front.
/// The stateful form (<c>stateful: true</c>) reads a stream in pieces and sequences of different lengths: it adds
/// the inputs <c>initial_h</c> and <c>initial_c</c> [layers, batch, n] (each layer's state to start from) and
/// <c>sequence_lens</c> [batch] (int32, each example's own length within this piece), and the outputs <c>Y_h</c>
/// and <c>Y_c</c> [layers, batch, n] (each layer's state after each example's own last step, to pass as the next
/// piece's initial state); its time axis is dynamic, and its steps come in the order the network reads them.
/// </summary>
/// <remarks>
/// ONNX stacks an LSTM's gates in the order i, o, f, c and keeps the input weight W and the recurrent weight R
/// apart; ours are the (4n, n + d) stack f, i, o, c̃ over [v_{t−1}; x_t]. So ONNX's gate blocks take their rows
/// from our input, output, forget and candidate blocks respectively: W takes columns n.. (the input part),
/// R columns 0..n−1 (the recurrent part), and the bias goes in Wb with Rb zero. ONNX's default activations
/// (sigmoid, tanh, tanh) and its cell update are the same as ours.
/// </remarks>
public static class OnnxExport
{
    /// <summary>The ONNX operator set written.</summary>
    public const int Opset = 17;

    /// <summary>ONNX IR version 8 is the one that came with opset 17 (ONNX 1.12).</summary>
    private const long IrVersion = 8;

    /// <summary>Names of the graph's input ([batch, T, d]) and output ([batch, classes]).</summary>
    public const string InputName = "input", OutputName = "logits";

    /// <summary>The stateful form's extra inputs: initial states [layers, batch, n] and lengths [batch] (int32).</summary>
    public const string InitialHiddenName = "initial_h", InitialCellName = "initial_c", SequenceLengthsName = "sequence_lens";

    /// <summary>The stateful form's extra outputs: each layer's output and cell state after each example's last step, [layers, batch, n].</summary>
    public const string FinalHiddenName = "Y_h", FinalCellName = "Y_c";

    /// <summary>For ONNX's gate blocks i, o, f, c: the block of ours each comes from.</summary>
    private static ReadOnlySpan<int> OnnxGateOrder => [ParameterLayout.Input, ParameterLayout.Output, ParameterLayout.Forget, ParameterLayout.Candidate];

    private const int Float = (int)TensorProto.Types.DataType.Float, Int32 = (int)TensorProto.Types.DataType.Int32, Int64 = (int)TensorProto.Types.DataType.Int64;

    /// <summary>
    /// Writes the ONNX model to <paramref name="path"/> (atomically: a failure leaves any old file as it was);
    /// with <paramref name="stateful"/>, the form with initial states, lengths and final states (see <see cref="OnnxExport"/>).
    /// </summary>
    public static void Save(string path, SequenceClassifier<float> model, SequenceLayout sequence, bool stateful = false)
    {
        ModelProto onnx = Build(model, sequence, stateful);
        AtomicFile.Write(path, stream => onnx.WriteTo(stream));
    }

    internal static ModelProto Build(SequenceClassifier<float> model, SequenceLayout sequence, bool stateful = false)
    {
        ModelConfig config = model.Config;
        if (sequence.Features != config.InputSize)
            throw new ArgumentException($"the {sequence.Name} view feeds {sequence.Features} features, the model reads {config.InputSize}");
        if (config.RefineGate)
            throw new SmnistException("onnx export writes ONNX's LSTM operator, which has no refine gate; this model was trained with --refine-gate");
        int n = config.HiddenSize;
        var graph = new GraphProto { Name = "smnist" };
        // The stateful form reads pieces of any length, so its time axis is named rather than fixed.
        graph.Input.Add(TensorValue(InputName, Float, "batch", stateful ? "steps" : sequence.Steps, config.InputSize));
        graph.Output.Add(TensorValue(OutputName, Float, "batch", config.Classes));
        if (stateful)
        {
            graph.Input.Add(TensorValue(InitialHiddenName, Float, config.Layers, "batch", n));
            graph.Input.Add(TensorValue(InitialCellName, Float, config.Layers, "batch", n));
            graph.Input.Add(TensorValue(SequenceLengthsName, Int32, "batch"));
            graph.Output.Add(TensorValue(FinalHiddenName, Float, config.Layers, "batch", n));
            graph.Output.Add(TensorValue(FinalCellName, Float, config.Layers, "batch", n));
        }

        string features = InputName;
        // A permutation spans the whole sequence, which a piece of a stream is not: the stateful form takes the
        // steps in the order the network reads them, and the permutation is in the metadata.
        if (sequence.Permutation is int[] permutation && !stateful)
        {
            // Step t reads pixel permutation[t]: gather along the time axis, so callers keep the natural order.
            graph.Initializer.Add(Int64Tensor("permutation", [permutation.Length], permutation.Select(p => (long)p)));
            graph.Node.Add(Node("Gather", [InputName, "permutation"], ["permuted"], "permute_pixels", Int("axis", 1)));
            features = "permuted";
        }
        // ONNX Runtime's LSTM takes time-major input only (layout 0): [batch, T, d] -> [T, batch, d].
        graph.Node.Add(Node("Transpose", [features], ["x_time_major"], "time_major", Ints("perm", 1, 0, 2)));
        graph.Initializer.Add(Int64Tensor("axis_0", [1], [0]));
        if (config.Layers > 1)
            graph.Initializer.Add(Int64Tensor("axis_1", [1], [1]));

        string layerOutput = "x_time_major";
        for (int layer = 0; layer < config.Layers; layer++)
            layerOutput = AddLstm(graph, model, layer, layerOutput, stateful);
        if (stateful)
        {
            // Each layer's [1, batch, n] final states, stacked into [layers, batch, n].
            graph.Node.Add(Node("Concat", Enumerable.Range(0, config.Layers).Select(l => $"lstm.{l}.Y_h").ToArray(), [FinalHiddenName], FinalHiddenName, Int("axis", 0)));
            graph.Node.Add(Node("Concat", Enumerable.Range(0, config.Layers).Select(l => $"lstm.{l}.Y_c").ToArray(), [FinalCellName], FinalCellName, Int("axis", 0)));
        }

        // Y_h [1, batch, n] -> [batch, n], then logits = v_T · readoutᵀ + bias.
        graph.Node.Add(Node("Squeeze", [layerOutput, "axis_0"], ["final_output"], "final_output"));
        ParameterLayout layout = model.Layout;
        graph.Initializer.Add(FloatTensor("readout.weight", [config.Classes, n], model.Parameters.AsSpan(layout.ReadoutWeightOffset, config.Classes * n)));
        graph.Initializer.Add(FloatTensor("readout.bias", [config.Classes], model.Parameters.AsSpan(layout.ReadoutBiasOffset, config.Classes)));
        graph.Node.Add(Node("Gemm", ["final_output", "readout.weight", "readout.bias"], [OutputName], "readout", Int("transB", 1)));

        var onnx = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "smnist",
            ProducerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = stateful
                ? $"smnist LSTM classifier, {sequence.Name} view, stateful: input [batch, steps, {sequence.Features}] (up to {sequence.Steps} steps in all, in the order the network reads them), {InitialHiddenName} and {InitialCellName} [{config.Layers}, batch, {n}], {SequenceLengthsName} [batch] int32; outputs logits [batch, {config.Classes}] at each example's last step, {FinalHiddenName} and {FinalCellName} [{config.Layers}, batch, {n}]."
                : $"smnist LSTM classifier, {sequence.Name} view: input [batch, {sequence.Steps}, {sequence.Features}] {(sequence.ReadsPixels ? " of pixels in [0, 1] in natural order" : "")}, output logits [batch, {config.Classes}].",
            Graph = graph,
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        onnx.MetadataProps.Add(new StringStringEntryProto { Key = "sequence", Value = sequence.Name });
        if (stateful && sequence.Permutation is int[] order)
            onnx.MetadataProps.Add(new StringStringEntryProto { Key = "permutation", Value = string.Join(',', order) });
        return onnx;
    }

    /// <summary>
    /// Layer <paramref name="layer"/> as one LSTM node reading <paramref name="input"/> [T, batch, d]. Returns what
    /// the layer above reads, its outputs [T, batch, n], or for the last layer its final output Y_h [1, batch, n].
    /// <paramref name="stateful"/>: the node also reads sequence_lens and its slice of initial_h and initial_c, and
    /// gives its final states lstm.{l}.Y_h and lstm.{l}.Y_c [1, batch, n].
    /// </summary>
    private static string AddLstm(GraphProto graph, SequenceClassifier<float> model, int layer, string input, bool stateful)
    {
        int n = model.Config.HiddenSize, d = model.Config.LayerInputSize(layer), columns = n + d;
        ReadOnlySpan<float> weight = model.Parameters.AsSpan(model.Layout.GateWeightOffset(layer), 4 * n * columns); // (4n, n+d)
        ReadOnlySpan<float> bias = model.Parameters.AsSpan(model.Layout.GateBiasOffset(layer), 4 * n);                // (4n)
        var inputWeight = new float[4 * n * d];     // (1, 4n, d) W
        var recurrentWeight = new float[4 * n * n]; // (1, 4n, n) R
        var biases = new float[8 * n];              // (1, 8n) [Wb; Rb], Rb zero
        for (int block = 0; block < 4; block++)
        {
            int source = OnnxGateOrder[block];
            for (int row = 0; row < n; row++)
            {
                ReadOnlySpan<float> ours = weight.Slice((source * n + row) * columns, columns);
                int target = block * n + row;
                ours[..n].CopyTo(recurrentWeight.AsSpan(target * n, n));
                ours[n..].CopyTo(inputWeight.AsSpan(target * d, d));
                biases[target] = bias[source * n + row];
            }
        }

        string prefix = $"lstm.{layer}";
        graph.Initializer.Add(FloatTensor($"{prefix}.W", [1, 4 * n, d], inputWeight));
        graph.Initializer.Add(FloatTensor($"{prefix}.R", [1, 4 * n, n], recurrentWeight));
        graph.Initializer.Add(FloatTensor($"{prefix}.B", [1, 8 * n], biases));
        string[] inputs = [input, $"{prefix}.W", $"{prefix}.R", $"{prefix}.B"];
        AttributeProto[] attributes = [Int("hidden_size", n), Str("direction", "forward")];
        if (stateful)
        {
            // initial_h[layer : layer + 1] is this layer's [num_directions = 1, batch, n] start.
            graph.Initializer.Add(Int64Tensor($"{prefix}.first", [1], [layer]));
            graph.Initializer.Add(Int64Tensor($"{prefix}.end", [1], [layer + 1]));
            graph.Node.Add(Node("Slice", [InitialHiddenName, $"{prefix}.first", $"{prefix}.end", "axis_0"], [$"{prefix}.initial_h"], $"{prefix}.initial_h"));
            graph.Node.Add(Node("Slice", [InitialCellName, $"{prefix}.first", $"{prefix}.end", "axis_0"], [$"{prefix}.initial_c"], $"{prefix}.initial_c"));
            inputs = [.. inputs, SequenceLengthsName, $"{prefix}.initial_h", $"{prefix}.initial_c"];
            bool last = layer == model.Config.Layers - 1;
            // Past its length, an example's Y is zero, and Y_h and Y_c hold its state at its own last step.
            graph.Node.Add(Node("LSTM", inputs, [last ? "" : $"{prefix}.Y", $"{prefix}.Y_h", $"{prefix}.Y_c"], prefix, attributes));
            if (last)
                return $"{prefix}.Y_h";
            graph.Node.Add(Node("Squeeze", [$"{prefix}.Y", "axis_1"], [$"{prefix}.outputs"], $"{prefix}.outputs"));
            return $"{prefix}.outputs";
        }
        if (layer == model.Config.Layers - 1)
        {
            // Only Y_h; an empty name leaves out the optional output Y.
            graph.Node.Add(Node("LSTM", inputs, ["", $"{prefix}.Y_h"], prefix, attributes));
            return $"{prefix}.Y_h";
        }
        // Y [T, 1, batch, n]; the layer above reads it without the direction axis.
        graph.Node.Add(Node("LSTM", inputs, [$"{prefix}.Y"], prefix, attributes));
        graph.Node.Add(Node("Squeeze", [$"{prefix}.Y", "axis_1"], [$"{prefix}.outputs"], $"{prefix}.outputs"));
        return $"{prefix}.outputs";
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, string name, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Str(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static TensorProto FloatTensor(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var tensor = new TensorProto { Name = name, DataType = Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values.ToArray());
        return tensor;
    }

    private static TensorProto Int64Tensor(string name, long[] dims, IEnumerable<long> values)
    {
        var tensor = new TensorProto { Name = name, DataType = Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    /// <summary>A tensor value's type; each dimension is a size (int) or a symbolic name (string).</summary>
    private static ValueInfoProto TensorValue(string name, int elementType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object dim in dims)
            shape.Dim.Add(dim is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = (int)dim });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } },
        };
    }
}
