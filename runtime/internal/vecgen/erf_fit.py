#!/usr/bin/env python3
# Fits the polynomials of runtime.Erf32 (runtime/vecmath.go; the vecgen
# constants ep0 … ep5 and er0 … er9) and estimates the resulting error in
# float32 arithmetic (no FMA, as the Go and assembly code compute).
#
#   /usr/bin/python3 runtime/internal/vecgen/erf_fit.py 0.875 5 9
#
# arguments: the split point s0, the degree of p (in x²) and of R (in
# t - center). Weighted least squares, reweighted towards minimax, at
# Chebyshev nodes; weights make the error uniform in ulps of erf. Needs
# numpy only (Debian's python3-numpy); not run by CI: the constants it
# printed are committed.
import numpy as np, math, sys
f32=np.float32
erf=np.vectorize(math.erf); erfc=np.vectorize(math.erfc)
def ulp(y):
    y=np.abs(y.astype(np.float32))
    return (np.nextafter(y, np.float32(np.inf))-y).astype(np.float64)
def horner32(cs, z):
    p=np.full_like(z, f32(cs[0]))
    for c in cs[1:]:
        p=(p*z).astype(f32)+f32(c)
    return p.astype(f32)
def fit(xs, ys, w, deg, var):
    # weighted least squares in var (Chebyshev-ish), coefficients high->low
    A=np.vander(var, deg+1)
    c,*_=np.linalg.lstsq(A*w[:,None], ys*w, rcond=None)
    return c
def minimax(xs, ys, w, deg, var, iters=30):
    # IRLS approx to minimax
    ww=np.ones_like(ys)
    for _ in range(iters):
        c=fit(xs, ys, w*ww, deg, var)
        e=np.abs(np.polyval(c,var)-ys)*w
        ww=ww*(e/e.max()+1e-3)**0.5
        ww/=ww.max()
    return c
s0=float(sys.argv[1]); ds=int(sys.argv[2]); dl=int(sys.argv[3]); T=4.0
# small: x + x*p(z)
xs=np.cos(np.linspace(0,np.pi,4000))*s0/2+s0/2
xs=xs[xs>1e-6]; z=xs*xs
ps=erf(xs)/xs-1
w=1/ulp(erf(xs))*xs
cs=minimax(xs,ps,w,ds,z)
# large: 1 - exp(-t^2)*R(t)
ts=np.cos(np.linspace(0,np.pi,4000))*(T-s0)/2+(T+s0)/2
R=erfc(ts)*np.exp(ts*ts)
wl=erfc(ts)/ulp(erf(ts))
C=(T+s0)/2
cl=minimax(ts,R,wl,dl,ts-C)
cs32=[f32(c) for c in cs]; cl32=[f32(c) for c in cl]
# evaluate on float32 grid
def exp32(x):  # use float64 exp rounded (approx of our Exp32, <=1ulp)
    return np.exp(x.astype(np.float64)).astype(f32)
def erf32(x):
    x=x.astype(f32); ax=np.abs(x)
    z=(x*x).astype(f32)
    small=(x+(x*horner32(cs32,z)).astype(f32)).astype(f32)
    t=np.minimum(ax,f32(T)).astype(f32)
    e=exp32(-(t*t).astype(f32))
    r=horner32(cl32,(t-f32(C)).astype(f32))
    big=(f32(1)-(e*r).astype(f32)).astype(f32)
    big=np.copysign(big,x)
    return np.where(ax<f32(s0), small, big)
g=np.arange(0, 0x40900000, 97, dtype=np.uint32).view(np.float32)
g=g[g>0]
ref=erf(g.astype(np.float64))
got=erf32(g)
err=np.abs(got.astype(np.float64)-ref)/ulp(ref)
i=np.argmax(err)
print("s0",s0,"ds",ds,"dl",dl,"max ulp err %.3f at %g"%(err.max(), g[i]), "small max %.3f"%err[g<s0].max(), "large max %.3f"%err[g>=s0].max())
print("small", [hex(np.array(c,dtype=f32).view(np.uint32)) for c in cs32])
print("large", [hex(np.array(c,dtype=f32).view(np.uint32)) for c in cl32])
