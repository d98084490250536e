"""antipasto_ablate — the trainable form of directional ablation (Arditi et al. 2024, arXiv:2406.11717, "Refusal in
Language Models Is Mediated by a Single Direction": x′ ← x − r̂ r̂ᵀ x, in weight form W_out′ ← W_out − r̂ r̂ᵀ W_out),
confined to the top-r output subspace of one layer on the AntiPaSTO frozen SVD basis (Clark 2026, arXiv:2601.07473,
§3.4 Eq. 3); the design is lora-lite's.

    W = U diag(S) Vh + W_res                      (top-r SVD: the PiSSA split, Eq. 3 of 2601.07473)
    Ĉ = c / (‖c‖ + 1e-6) for k = 1, the Q of c = Q R for k > 1        (k orthonormal directions in S-space)
    h = (x Vhᵀ) ⊙ S,   h ← h − coeff · ((h Ĉ) ⊙ clamp(α, 0, 1)) Ĉᵀ,   y = x W_resᵀ + b + h Uᵀ

Scope of the citation: the paper removes a fixed direction (a difference in means, computed once) from the whole
residual stream; here the direction r̂ = U Ĉ is trained and lies in span U_r, so only the part of the output the
layer's top-r singular subspace writes is ablated. At α = 1, coeff = 1 this is the paper's W − r̂ r̂ᵀ W for such an
r̂ (U_rᵀ W_res = 0); 0 < α < 1 ablates in part. For coeff ∈ [0, 1] the subspace operator I − coeff Ĉ diag(α̂) Ĉᵀ has
its eigenvalues in [0, 1] (a contraction); coeff < 0 adds the directions back (amplifies, by at most 1 + |coeff|).
coeff = 0 or α = 0 is the base layer; the init is not: α starts at init_alpha = 0.05 so that c gets a gradient at
step 0. The QR runs in float32 for half-precision c (no geqrf kernel there) and in c's own dtype from float32 up.
"""

import torch
from torch import nn

EPS = 1e-6  # guard of the k = 1 normalisation against c = 0


class AblateLinear(nn.Module):
    ROLES = {"lora_c": "direction", "lora_alpha": "strength"}
    BUFFERS = {"lora_U": "basis_out", "lora_S": "singular", "lora_Vh": "basis_in"}

    def __init__(self, base: nn.Linear, r: int, k: int = 1, coeff: float = 1.0, init_alpha: float = 0.05):
        super().__init__()
        if not 0 < k <= r:
            raise ValueError(f"antipasto_ablate needs 0 < k <= r, got k={k}, r={r}")
        self.base = base.requires_grad_(False)
        self.coeff = coeff  # runtime: 0 is the base, (0, 1] ablates, < 0 amplifies
        weight = base.weight.detach()
        dtype = weight.dtype
        u, s, vh = torch.linalg.svd(weight.to(torch.promote_types(dtype, torch.float32)), full_matrices=False)
        self.register_buffer("lora_U", u[:, :r].to(dtype))  # (d_out, r)
        self.register_buffer("lora_S", s[:r].to(dtype))  # (r,)
        self.register_buffer("lora_Vh", vh[:r].to(dtype))  # (r, d_in)
        with torch.no_grad():  # W_res = W − U diag(S) Vh, formed from the stored factors
            base.weight.sub_((self.lora_U * self.lora_S) @ self.lora_Vh)
        self.lora_c = nn.Parameter(torch.empty(r, k, dtype=dtype).normal_(0, r ** -0.5))  # (r, k) ~ N(0, 1/√r)
        self.lora_alpha = nn.Parameter(torch.full((k,), float(init_alpha), dtype=dtype))  # (k,) strengths

    def directions(self) -> torch.Tensor:
        """Ĉ (r, k) with orthonormal columns."""
        c = self.lora_c
        if c.shape[1] == 1:
            return c / (c.norm() + EPS)
        q, _ = torch.linalg.qr(c.to(torch.promote_types(c.dtype, torch.float32)))  # reduced QR
        return q.to(c.dtype)

    def strength(self) -> torch.Tensor:
        return self.lora_alpha.clamp(0.0, 1.0)  # (k,) α̂

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, d_in)
        chat, alpha = self.directions(), self.strength()
        h = (x @ self.lora_Vh.T) * self.lora_S  # (N, r) output coordinates in S-space
        h = h - self.coeff * ((h @ chat) * alpha) @ chat.T  # remove α̂ of each direction's component
        return self.base(x) + h @ self.lora_U.T  # (N, d_out)


ADAPTERS = {"antipasto_ablate": AblateLinear}
TOPICS = {
    "init": r"self\.lora_(c|alpha) = |register_buffer\(\"lora_|base\.weight\.sub_|raise ValueError|EPS = ",
    "forward": r"def forward|def directions|def strength|^\s+(c|q, _|h|chat, alpha) = [^=]*(self\.|torch\.|@)|return ",
    "trainable": r"requires_grad_|nn\.Parameter|register_buffer",
    "citation": r"arXiv:|^Scope of the citation",
}
