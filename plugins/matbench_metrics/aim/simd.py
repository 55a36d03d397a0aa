"""Eight-lane vectors for numba kernels: ``load8``, ``store8``, lane-wise arithmetic and selects.

Numba's loop vectoriser keeps to 256-bit vectors on this kind of CPU and gives up on loops that
touch many arrays (the separable Gaussian filters of the gradient error read 13 rows at once).
``Vec8`` is LLVM's ``<8 x double>`` / ``<8 x float>`` / ``<8 x i8>`` as a numba value, so such
a loop can be written one vector (8 pixels) at a time::

    acc = load8(row, c) * w0
    acc = acc + (load8(up, c) + load8(down, c)) * w1
    store8(out, c, acc)

Exactness: every operation is the IEEE operation of each lane on its own — ``+``, ``-``, ``*``,
``abs8``, ``sqrt8``, comparisons, ``where8`` (a select) and the float32 rounding ``to_f32`` —
with no fast-math flags, so LLVM may neither reassociate nor contract a ``*`` and a ``+`` into
an FMA. Lane j computes exactly what the scalar code computes for pixel j, in the same order.
Comparisons follow Python's: ordered (false with a NaN) except ``!=``. A scalar mixed with a
vector must have the vector's type (no silent float64 -> float32 rounding).

No bounds checks: callers pass indices with ``0 <= i`` and ``i + 8 <= a.size``. Two bit helpers
for byte maps (``trailing_zeros``, ``ge_mask64``) live here too.

These are numba intrinsics: they are compiled into the kernels that use them, and numba's
on-disk cache of those kernels does not notice an edit of this file (clear ``__pycache__``).
"""
from __future__ import annotations

import operator

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

_LANES = (types.float32, types.float64, types.uint8)
_I32 = ir.IntType(32)


class Vec8(types.Type):
    """Eight lanes of float32, float64 or uint8."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"Vec8({dtype})")


class Mask8(types.Type):
    """Eight booleans, the result of a lane-wise comparison (LLVM ``<8 x i1>``)."""

    def __init__(self):
        super().__init__(name="Mask8")


mask8 = Mask8()


@register_model(Vec8)
class _Vec8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(dmm.lookup(fe_type.dtype).get_value_type(), 8))


@register_model(Mask8)
class _Mask8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(ir.IntType(1), 8))


def _is_row(a):
    return isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" and a.dtype in _LANES


def _vector_pointer(context, builder, aty, arr, ity, idx):
    data = context.make_array(aty)(context, builder, arr).data
    i = context.cast(builder, idx, ity, types.intp)
    vec = ir.VectorType(context.get_data_type(aty.dtype), 8)
    return builder.bitcast(builder.gep(data, [i]), vec.as_pointer())


def _splat(builder, value, vec):
    one = builder.insert_element(ir.Constant(vec, ir.Undefined), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, vec.count), [0] * vec.count))


def _is_float(t):
    return isinstance(t, Vec8) and t.dtype in (types.float32, types.float64)


@intrinsic
def load8(typingctx, a, i):
    """``a[i:i+8]`` as a vector (a: 1-D C-contiguous float32 / float64 / uint8 array)."""
    if not (_is_row(a) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _vector_pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        return builder.load(ptr, align=sig.args[0].dtype.bitwidth // 8)

    return Vec8(a.dtype)(a, i), codegen


@intrinsic
def store8(typingctx, a, i, v):
    """``a[i:i+8] = v`` (v of the array's dtype)."""
    if not (_is_row(a) and isinstance(i, types.Integer) and isinstance(v, Vec8) and v.dtype == a.dtype):
        return None

    def codegen(context, builder, sig, args):
        ptr = _vector_pointer(context, builder, sig.args[0], args[0], sig.args[1], args[1])
        builder.store(args[2], ptr, align=sig.args[0].dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.void(a, i, v), codegen


@intrinsic
def splat8(typingctx, x):
    """A vector with x in every lane (float32 / float64 / uint8)."""
    if x not in _LANES:
        return None

    def codegen(context, builder, sig, args):
        return _splat(builder, args[0], ir.VectorType(context.get_value_type(sig.args[0]), 8))

    return Vec8(x)(x), codegen


def _operands(context, builder, sig, args):
    """Both operands as vectors: a scalar of the vector's dtype is broadcast."""
    vec_ty = sig.args[0] if isinstance(sig.args[0], Vec8) else sig.args[1]
    vec = ir.VectorType(context.get_value_type(vec_ty.dtype), 8)
    return [v if isinstance(t, Vec8) else _splat(builder, v, vec) for t, v in zip(sig.args, args)]


def _vector_and_scalar(a, b):
    """The vector type of (a, b) if they are two equal vectors or a vector and its dtype."""
    if isinstance(a, Vec8) and (b == a or b == a.dtype):
        return a
    if isinstance(b, Vec8) and a == b.dtype:
        return b
    return None


def _arithmetic(instruction):
    @intrinsic
    def op(typingctx, a, b):
        vt = _vector_and_scalar(a, b)
        if vt is None or not _is_float(vt):
            return None

        def codegen(context, builder, sig, args):
            x, y = _operands(context, builder, sig, args)
            return getattr(builder, instruction)(x, y)

        return vt(a, b), codegen
    return op


def _comparison(symbol):
    @intrinsic
    def op(typingctx, a, b):
        vt = _vector_and_scalar(a, b)
        if vt is None:
            return None

        def codegen(context, builder, sig, args):
            x, y = _operands(context, builder, sig, args)
            if vt.dtype == types.uint8:
                return builder.icmp_unsigned(symbol, x, y)
            if symbol == "!=":
                return builder.fcmp_unordered(symbol, x, y)      # NaN != NaN, as in Python
            return builder.fcmp_ordered(symbol, x, y)

        return mask8(a, b), codegen
    return op


def _register(pyop, impl):
    @overload(pyop)
    def _ov(a, b):
        if isinstance(a, Vec8) or isinstance(b, Vec8):
            return lambda a, b: impl(a, b)


for _pyop, _impl in ((operator.add, _arithmetic("fadd")), (operator.sub, _arithmetic("fsub")),
                     (operator.mul, _arithmetic("fmul")),
                     (operator.lt, _comparison("<")), (operator.le, _comparison("<=")),
                     (operator.gt, _comparison(">")), (operator.ge, _comparison(">=")),
                     (operator.eq, _comparison("==")), (operator.ne, _comparison("!="))):
    _register(_pyop, _impl)


@intrinsic
def where8(typingctx, mask, a, b):
    """Lane-wise ``a if mask else b``; a and b vectors or scalars of one dtype."""
    if mask != mask8:
        return None
    vt = _vector_and_scalar(a, b)
    if vt is None and a == b and a in _LANES:
        vt = Vec8(a)
    if vt is None:
        return None

    def codegen(context, builder, sig, args):
        vec = ir.VectorType(context.get_value_type(vt.dtype), 8)
        x, y = (v if isinstance(t, Vec8) else _splat(builder, v, vec) for t, v in zip(sig.args[1:], args[1:]))
        return builder.select(args[0], x, y)

    return vt(mask, a, b), codegen


@intrinsic
def count8(typingctx, mask):
    """How many lanes of the mask are true (0..8)."""
    if mask != mask8:
        return None

    def codegen(context, builder, sig, args):
        bits = builder.zext(builder.bitcast(args[0], ir.IntType(8)), ir.IntType(64))
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), [ir.IntType(64)]),
                                            "llvm.ctpop.i64")
        return builder.call(fn, [bits])

    return types.int64(mask), codegen


def _unary_float(name):
    @intrinsic
    def op(typingctx, v):
        if not _is_float(v):
            return None

        def codegen(context, builder, sig, args):
            vec = args[0].type
            suffix = "v8f32" if isinstance(vec.element, ir.FloatType) else "v8f64"
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vec, [vec]), f"llvm.{name}.{suffix}")
            return builder.call(fn, [args[0]])

        return v(v), codegen
    return op


sqrt8 = _unary_float("sqrt")       # correctly rounded, as np.sqrt
abs8 = _unary_float("fabs")        # clears the sign bit, as np.abs / abs()


@intrinsic
def to_f32(typingctx, v):
    """Round each float64 lane to float32 (round to nearest even, as numpy's astype)."""
    if not (isinstance(v, Vec8) and v.dtype == types.float64):
        return None

    def codegen(context, builder, sig, args):
        return builder.fptrunc(args[0], ir.VectorType(ir.FloatType(), 8))

    return Vec8(types.float32)(v), codegen


@intrinsic
def to_f64(typingctx, v):
    """Widen each float32 or uint8 lane to float64 (exact)."""
    if not (isinstance(v, Vec8) and v.dtype in (types.float32, types.uint8)):
        return None

    def codegen(context, builder, sig, args):
        vec = ir.VectorType(ir.DoubleType(), 8)
        if sig.args[0].dtype == types.uint8:
            return builder.uitofp(args[0], vec)
        return builder.fpext(args[0], vec)

    return Vec8(types.float64)(v), codegen


@intrinsic
def to_u8(typingctx, v):
    """Float64 lanes holding whole numbers 0..255 as uint8 lanes."""
    if not (isinstance(v, Vec8) and v.dtype == types.float64):
        return None

    def codegen(context, builder, sig, args):
        return builder.fptoui(args[0], ir.VectorType(ir.IntType(8), 8))

    return Vec8(types.uint8)(v), codegen


@intrinsic
def trailing_zeros(typingctx, x):
    """Number of trailing zero bits of an unsigned integer (its width when x is 0)."""
    if not (isinstance(x, types.Integer) and not x.signed):
        return None

    def codegen(context, builder, sig, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return x(x), codegen


@intrinsic
def ge_mask64(typingctx, a, i, level):
    """Bit b of the result is ``a[i + b] >= level`` for b in 0..63 (a: 1-D C-contiguous uint8
    array, i + 64 <= a.size): one vector compare of 64 bytes."""
    if not (isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" and a.dtype == types.uint8
            and isinstance(i, types.Integer) and isinstance(level, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        aty, ity, lty = sig.args
        data = context.make_array(aty)(context, builder, args[0]).data
        idx = context.cast(builder, args[1], ity, types.intp)
        vec = ir.VectorType(ir.IntType(8), 64)
        v = builder.load(builder.bitcast(builder.gep(data, [idx]), vec.as_pointer()), align=1)
        lv = builder.trunc(context.cast(builder, args[2], lty, types.int64), ir.IntType(8))
        return builder.bitcast(builder.icmp_unsigned(">=", v, _splat(builder, lv, vec)), ir.IntType(64))

    return types.uint64(a, i, level), codegen


@intrinsic
def lane_sum8(typingctx, v):
    """NumPy's combination of its 8 pairwise lanes: ((v0 + v1) + (v2 + v3)) + ((v4 + v5) +
    (v6 + v7)), in that order."""
    if not _is_float(v):
        return None

    def codegen(context, builder, sig, args):
        x = [builder.extract_element(args[0], ir.Constant(_I32, j)) for j in range(8)]
        left = builder.fadd(builder.fadd(x[0], x[1]), builder.fadd(x[2], x[3]))
        right = builder.fadd(builder.fadd(x[4], x[5]), builder.fadd(x[6], x[7]))
        return builder.fadd(left, right)

    return v.dtype(v), codegen
