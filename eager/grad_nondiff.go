package eager

// Ops whose outputs are integers, booleans, strings or samples drawn at
// random, or functions of sizes only (window functions), carry no gradient;
// so do the tree and encoder ops of ai.onnx.ml and the optimizer steps of
// ai.onnx.preview.training (their outputs are updated parameters, not
// functions to be differentiated). SequenceLength and OptionalHasElement
// answer an integer and a boolean; SequenceEmpty has no inputs.
func init() {
	RegisterNonDifferentiable("", "NonMaxSuppression", "RandomNormal", "RandomUniform",
		"RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial",
		"StringNormalizer", "StringConcat", "StringSplit", "RegexFullMatch", "TfIdfVectorizer",
		"ImageDecoder", "HannWindow", "HammingWindow", "BlackmanWindow", "MelWeightMatrix",
		"SequenceLength", "OptionalHasElement", "SequenceEmpty")
	RegisterNonDifferentiable("ai.onnx.ml", "LabelEncoder", "Binarizer", "TreeEnsemble")
	// ArrayFeatureExtractor gathers X's last axis at Y: dX is dZ scattered back.
	RegisterGradient("ai.onnx.ml", "ArrayFeatureExtractor", gradByIndexMap)
	RegisterNonDifferentiable("ai.onnx.preview.training", "Adam", "Adagrad", "Momentum", "Gradient")
}
