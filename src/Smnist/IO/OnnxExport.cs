using System.Reflection;
using Google.Protobuf;
using Onnx;
using Smnist.Data;
using Smnist.Nn;

namespace Smnist.IO;

/// <summary>
/// Writes a model as a standard ONNX graph (opset 17) that ONNX Runtime, ML.NET or onnxruntime-web run as is:
/// input <c>input</c> [batch, T, d] float32 — pixels in [0, 1], in their natural order for every view —,
/// output <c>logits</c> [batch, classes]. Each layer of a plain LSTM is one ONNX <c>LSTM</c> operator; each layer of a
/// UR-LSTM (<see cref="ModelConfig.RefineGate"/>), which that operator cannot express, is a <c>MatMul</c> for the
/// inputs and a <c>Scan</c> over time whose body computes one step of the refined cell. The readout is a <c>Gemm</c>
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

    private const int Float = (int)TensorProto.Types.DataType.Float, Int32 = (int)TensorProto.Types.DataType.Int32, Int64 = (int)TensorProto.Types.DataType.Int64, Bool = (int)TensorProto.Types.DataType.Bool;

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
        // ONNX Runtime's LSTM takes time-major input only (layout 0), and Scan reads axis 0: [batch, T, d] -> [T, batch, d].
        graph.Node.Add(Node("Transpose", [features], [TimeMajorInput], "time_major", Ints("perm", 1, 0, 2)));
        string finalOutput = config.RefineGate ? AddRefinedLayers(graph, model, stateful) : AddLstmLayers(graph, model, stateful);
        ParameterLayout layout = model.Layout;
        graph.Initializer.Add(FloatTensor("readout.weight", [config.Classes, n], model.Parameters.AsSpan(layout.ReadoutWeightOffset, config.Classes * n)));
        graph.Initializer.Add(FloatTensor("readout.bias", [config.Classes], model.Parameters.AsSpan(layout.ReadoutBiasOffset, config.Classes)));
        graph.Node.Add(Node("Gemm", [finalOutput, "readout.weight", "readout.bias"], [OutputName], "readout", Int("transB", 1)));

        string cell = config.RefineGate ? "UR-LSTM (refine gate)" : "LSTM";
        var onnx = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "smnist",
            ProducerVersion = typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "",
            DocString = stateful
                ? $"smnist {cell} classifier, {sequence.Name} view, stateful: input [batch, steps, {sequence.Features}] (up to {sequence.Steps} steps in all, in the order the network reads them), {InitialHiddenName} and {InitialCellName} [{config.Layers}, batch, {n}], {SequenceLengthsName} [batch] int32; outputs logits [batch, {config.Classes}] at each example's last step, {FinalHiddenName} and {FinalCellName} [{config.Layers}, batch, {n}]."
                : $"smnist {cell} classifier, {sequence.Name} view: input [batch, {sequence.Steps}, {sequence.Features}] {(sequence.ReadsPixels ? " of pixels in [0, 1] in natural order" : "")}, output logits [batch, {config.Classes}].",
            Graph = graph,
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        onnx.MetadataProps.Add(new StringStringEntryProto { Key = "sequence", Value = sequence.Name });
        if (stateful && sequence.Permutation is int[] order)
            onnx.MetadataProps.Add(new StringStringEntryProto { Key = "permutation", Value = string.Join(',', order) });
        return onnx;
    }

    /// <summary>The input [T, batch, d] that the first layer reads.</summary>
    private const string TimeMajorInput = "x_time_major";

    /// <summary>Every layer as an ONNX <c>LSTM</c> node. Returns the last layer's final output [batch, n], which the readout reads.</summary>
    private static string AddLstmLayers(GraphProto graph, SequenceClassifier<float> model, bool stateful)
    {
        int layers = model.Config.Layers;
        graph.Initializer.Add(Int64Tensor("axis_0", [1], [0]));
        if (layers > 1)
            graph.Initializer.Add(Int64Tensor("axis_1", [1], [1]));
        string layerOutput = TimeMajorInput;
        for (int layer = 0; layer < layers; layer++)
            layerOutput = AddLstm(graph, model, layer, layerOutput, stateful);
        if (stateful)
            AddFinalStates(graph, layers);

        // Y_h [1, batch, n] -> [batch, n], which the readout reads: logits = v_T · readoutᵀ + bias.
        graph.Node.Add(Node("Squeeze", [layerOutput, "axis_0"], ["final_output"], "final_output"));
        return "final_output";
    }

    /// <summary>The stateful form's outputs Y_h and Y_c: each layer's [1, batch, n] final states lstm.{l}.Y_h and lstm.{l}.Y_c, stacked into [layers, batch, n].</summary>
    private static void AddFinalStates(GraphProto graph, int layers)
    {
        graph.Node.Add(Node("Concat", Enumerable.Range(0, layers).Select(l => $"lstm.{l}.Y_h").ToArray(), [FinalHiddenName], FinalHiddenName, Int("axis", 0)));
        graph.Node.Add(Node("Concat", Enumerable.Range(0, layers).Select(l => $"lstm.{l}.Y_c").ToArray(), [FinalCellName], FinalCellName, Int("axis", 0)));
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

    /// <summary>
    /// Every layer of a UR-LSTM (<see cref="ModelConfig.RefineGate"/>), which ONNX's LSTM operator cannot express: per layer
    /// the input part of every step's pre-activations as one <c>MatMul</c> over [T, batch, d], then a <c>Scan</c> over time
    /// whose body is one step of the refined cell (<see cref="RefinedStep"/>). Returns the last layer's final output
    /// [batch, n], which the readout reads. The plain form starts every layer from zeros and runs every step; the stateful
    /// form starts each layer from its slice of initial_h and initial_c, and scans a mask along: past its length an
    /// example's state is kept as it was, so its final states and its readout are those of its own last step.
    /// </summary>
    private static string AddRefinedLayers(GraphProto graph, SequenceClassifier<float> model, bool stateful)
    {
        int layers = model.Config.Layers, n = model.Config.HiddenSize;
        graph.Initializer.Add(FloatTensor("one", [], [1f]));
        if (stateful)
        {
            // running[t, b, 0] = t < sequence_lens[b], [T, batch, 1]: the steps each example really has.
            graph.Initializer.Add(Int64Tensor("first_step", [], [0]));
            graph.Initializer.Add(Int64Tensor("step_stride", [], [1]));
            graph.Initializer.Add(Int64Tensor("axis_0", [1], [0]));
            graph.Initializer.Add(Int64Tensor("axis_1", [1], [1]));
            graph.Initializer.Add(Int64Tensor("axes_1_2", [2], [1, 2]));
            graph.Node.Add(Node("Shape", [TimeMajorInput], ["steps"], "steps", Int("end", 1)));
            graph.Node.Add(Node("Squeeze", ["steps"], ["step_count"], "step_count"));
            graph.Node.Add(Node("Range", ["first_step", "step_count", "step_stride"], ["times"], "times"));
            graph.Node.Add(Node("Unsqueeze", ["times", "axes_1_2"], ["step_times"], "step_times"));                 // [T, 1, 1]
            graph.Node.Add(Node("Cast", [SequenceLengthsName], ["lengths"], "lengths", Int("to", Int64)));
            graph.Node.Add(Node("Unsqueeze", ["lengths", "axis_1"], ["example_lengths"], "example_lengths"));      // [batch, 1]
            graph.Node.Add(Node("Less", ["step_times", "example_lengths"], [RunningMask], RunningMask));
        }
        else
        {
            // Zero states [batch, n]: ConstantOfShape fills with float zeros.
            graph.Initializer.Add(Int64Tensor("units", [1], [n]));
            graph.Node.Add(Node("Shape", [TimeMajorInput], ["batch_size"], "batch_size", Int("start", 1), Int("end", 2)));
            graph.Node.Add(Node("Concat", ["batch_size", "units"], ["state_shape"], "state_shape", Int("axis", 0)));
            graph.Node.Add(Node("ConstantOfShape", ["state_shape"], ["zero_state"], "zero_state"));
        }

        string layerOutput = TimeMajorInput;
        for (int layer = 0; layer < layers; layer++)
            layerOutput = AddRefinedLayer(graph, model, layer, layerOutput, stateful);
        if (stateful)
        {
            // Each layer's [batch, n] final states as [1, batch, n], as the LSTM operator gives them.
            foreach (string state in new[] { "h", "c" })
            {
                for (int layer = 0; layer < layers; layer++)
                    graph.Node.Add(Node("Unsqueeze", [$"lstm.{layer}.{state}", "axis_0"], [$"lstm.{layer}.Y_{state}"], $"lstm.{layer}.Y_{state}"));
            }
            AddFinalStates(graph, layers);
        }
        return layerOutput;
    }

    /// <summary>The stateful refined form's [T, batch, 1] mask of the steps each example really has.</summary>
    private const string RunningMask = "running";

    /// <summary>
    /// UR-LSTM layer <paramref name="layer"/> reading <paramref name="input"/> [T, batch, d]. Returns what the layer above
    /// reads, its outputs [T, batch, n], or for the last layer its final output lstm.{l}.h [batch, n]; its final cell
    /// state is lstm.{l}.c [batch, n].
    /// </summary>
    private static string AddRefinedLayer(GraphProto graph, SequenceClassifier<float> model, int layer, string input, bool stateful)
    {
        int n = model.Config.HiddenSize, d = model.Config.LayerInputSize(layer), columns = n + d, g = 4 * n;
        ReadOnlySpan<float> weight = model.Parameters.AsSpan(model.Layout.GateWeightOffset(layer), g * columns); // (4n, n+d), blocks f, r, o, c̃
        var inputWeight = new float[d * g];     // (d, 4n): the input columns, transposed
        var recurrentWeight = new float[n * g]; // (n, 4n): the recurrent columns, transposed
        for (int row = 0; row < g; row++)
        {
            for (int column = 0; column < n; column++)
                recurrentWeight[column * g + row] = weight[row * columns + column];
            for (int column = 0; column < d; column++)
                inputWeight[column * g + row] = weight[row * columns + n + column];
        }

        string prefix = $"lstm.{layer}";
        graph.Initializer.Add(FloatTensor($"{prefix}.input_weight", [d, g], inputWeight));
        graph.Initializer.Add(FloatTensor($"{prefix}.recurrent_weight", [n, g], recurrentWeight));
        graph.Initializer.Add(FloatTensor($"{prefix}.bias", [g], model.Parameters.AsSpan(model.Layout.GateBiasOffset(layer), g)));
        // Every step's input part at once, [T, batch, 4n]; each step then adds its recurrent part.
        graph.Node.Add(Node("MatMul", [input, $"{prefix}.input_weight"], [$"{prefix}.input_product"], $"{prefix}.input_product"));
        graph.Node.Add(Node("Add", [$"{prefix}.input_product", $"{prefix}.bias"], [$"{prefix}.input_gates"], $"{prefix}.input_gates"));

        string[] initial = ["zero_state", "zero_state"];
        string[] scanned = [$"{prefix}.input_gates"];
        if (stateful)
        {
            // initial_h[layer] is this layer's [batch, n] start.
            graph.Initializer.Add(Int64Tensor($"{prefix}.index", [], [layer]));
            graph.Node.Add(Node("Gather", [InitialHiddenName, $"{prefix}.index"], [$"{prefix}.initial_h"], $"{prefix}.initial_h", Int("axis", 0)));
            graph.Node.Add(Node("Gather", [InitialCellName, $"{prefix}.index"], [$"{prefix}.initial_c"], $"{prefix}.initial_c", Int("axis", 0)));
            initial = [$"{prefix}.initial_h", $"{prefix}.initial_c"];
            scanned = [.. scanned, RunningMask];
        }
        bool last = layer == model.Config.Layers - 1;
        string[] outputs = last ? [$"{prefix}.h", $"{prefix}.c"] : [$"{prefix}.h", $"{prefix}.c", $"{prefix}.outputs"];
        graph.Node.Add(Node("Scan", [.. initial, .. scanned], outputs, prefix,
            Graph("body", RefinedStep(prefix, n, masked: stateful, stepOutput: !last)), Int("num_scan_inputs", scanned.Length)));
        return last ? $"{prefix}.h" : $"{prefix}.outputs";
    }

    /// <summary>
    /// A Scan body: one step of the UR-LSTM cell over the batch, as <see cref="LstmCell"/> computes it. State inputs
    /// v_{t−1} and c_{t−1} [batch, n], scan inputs the step's input part of the pre-activations [batch, 4n] (blocks f, r,
    /// o, c̃, bias added) and, when <paramref name="masked"/>, whether each example still runs [batch, 1]; outputs v_t and
    /// c_t (kept at v_{t−1} and c_{t−1} where an example has stopped), and with <paramref name="stepOutput"/> v_t again as
    /// the scan output the layer above reads. The recurrent weight is the outer graph's {prefix}.recurrent_weight.
    /// <code>
    /// f, r, o = σ(·)   c̃ = tanh(·)   g = f ⊙ (f + 2r ⊙ (1 − f))   c_t = c̃ + g ⊙ (c_{t−1} − c̃)   v_t = o ⊙ tanh(c_t)
    /// </code>
    /// </summary>
    private static GraphProto RefinedStep(string prefix, int n, bool masked, bool stepOutput)
    {
        string Local(string name) => $"{prefix}.step.{name}";
        var body = new GraphProto { Name = $"{prefix}.step" };
        string hidden = Local("previous_output"), cell = Local("previous_cell"), inputGates = Local("input_gates");
        body.Input.Add(TensorValue(hidden, Float, "batch", n));
        body.Input.Add(TensorValue(cell, Float, "batch", n));
        body.Input.Add(TensorValue(inputGates, Float, "batch", 4 * n));
        if (masked)
            body.Input.Add(TensorValue(Local("running"), Bool, "batch", 1));

        void Op(string op, string output, params string[] inputs) => body.Node.Add(Node(op, inputs, [Local(output)], Local(output)));
        Op("MatMul", "recurrent_gates", hidden, $"{prefix}.recurrent_weight");
        Op("Add", "gates", inputGates, Local("recurrent_gates"));
        string[] blocks = ["forget", "refine", "output", "candidate"];
        body.Node.Add(Node("Split", [Local("gates")], blocks.Select(b => Local($"{b}_in")).ToArray(), Local("split"), Int("axis", 1)));
        foreach (string gate in blocks[..3])
            Op("Sigmoid", gate, Local($"{gate}_in"));
        Op("Tanh", "candidate", Local("candidate_in"));
        Op("Sub", "one_minus_forget", "one", Local("forget"));
        Op("Add", "twice_refine", Local("refine"), Local("refine"));
        Op("Mul", "lift", Local("twice_refine"), Local("one_minus_forget"));
        Op("Add", "forget_lifted", Local("forget"), Local("lift"));
        Op("Mul", "effective", Local("forget"), Local("forget_lifted"));          // g
        Op("Sub", "memory", cell, Local("candidate"));
        Op("Mul", "kept", Local("effective"), Local("memory"));
        Op("Add", "cell", Local("candidate"), Local("kept"));                      // c_t
        Op("Tanh", "tanh_cell", Local("cell"));
        Op("Mul", "output_value", Local("output"), Local("tanh_cell"));           // v_t
        string nextHidden = Local("output_value"), nextCell = Local("cell");
        if (masked)
        {
            Op("Where", "kept_output", Local("running"), nextHidden, hidden);
            Op("Where", "kept_cell", Local("running"), nextCell, cell);
            (nextHidden, nextCell) = (Local("kept_output"), Local("kept_cell"));
        }
        body.Output.Add(TensorValue(nextHidden, Float, "batch", n));
        body.Output.Add(TensorValue(nextCell, Float, "batch", n));
        if (stepOutput)
        {
            Op("Identity", "step_output", nextHidden);
            body.Output.Add(TensorValue(Local("step_output"), Float, "batch", n));
        }
        return body;
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

    private static AttributeProto Graph(string name, GraphProto graph) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = graph };

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
