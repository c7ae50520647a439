/// PyTorch's default initialization of convolutions and linear layers:
/// `kaiming_uniform_(a = sqrt(5))` for the weight, and the same bound for the bias,
/// which both come to uniform in `±1/sqrt(fan_in)` (fan_in: the inputs feeding one
/// output, `C_in/groups * K_h * K_w` for a convolution).
enum KaimingUniform {
    static func bound(fanIn: Int) -> Float { 1 / Float(fanIn).squareRoot() }
}
