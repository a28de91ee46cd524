import math
# PyTorch documented algorithms (torch.optim.SGD / Adam / AdamW docs), pure python floats.
def grad(p, k):  # gradient of the toy objective at step k
    return [0.5*p[0] + 0.1, -1.5*p[1] + 0.2*(k+1), 3.0*p[2]*p[2] - 0.3]
NODECAY=[False, True, False]
def sgd(lr, mom, damp, wd, nest, steps=4, decay_all=False):
    p=[1.0,-2.0,0.5]; b=[None]*3
    for k in range(steps):
        g=grad(p,k)
        for i in range(3):
            gi=g[i]
            if wd and (decay_all or not NODECAY[i]): gi += wd*p[i]
            if mom:
                b[i] = gi if b[i] is None else mom*b[i] + (1-damp)*gi
                gi = gi + mom*b[i] if nest else b[i]
            p[i] -= lr*gi
    return p
def adam(lr,b1,b2,eps,wd,decoupled,ams,steps=4, lrs=None):
    p=[1.0,-2.0,0.5]; m=[0.0]*3; v=[0.0]*3; vm=[0.0]*3
    for k in range(steps):
        t=k+1
        l = lrs[k] if lrs else lr
        g=grad(p,k)
        for i in range(3):
            gi=g[i]
            if wd and not NODECAY[i]:
                if decoupled: p[i]*=1-l*wd
                else: gi+=wd*p[i]
            m[i]=b1*m[i]+(1-b1)*gi
            v[i]=b2*v[i]+(1-b2)*gi*gi
            vv=v[i]
            if ams: vm[i]=max(vm[i],v[i]); vv=vm[i]
            mh=m[i]/(1-b1**t); 
            p[i]-= l*mh/(math.sqrt(vv)/math.sqrt(1-b2**t)+eps)
    return p
cases = {
 "sgd": sgd(0.1,0,0,0,False),
 "sgd_wd": sgd(0.1,0,0,0.01,False),
 "sgd_mom_damp_wd": sgd(0.05,0.9,0.1,0.01,False),
 "sgd_nesterov_wd": sgd(0.05,0.9,0,0.01,True),
 "sgd_mom_decayall": sgd(0.05,0.9,0,0.01,False,decay_all=True),
 "adam": adam(0.01,0.9,0.999,1e-8,0,False,False),
 "adam_wd": adam(0.01,0.9,0.999,1e-8,0.1,False,False),
 "adamw": adam(0.01,0.9,0.999,1e-8,0.1,True,False),
 "adam_amsgrad": adam(0.01,0.8,0.99,1e-3,0,False,True),
 "adamw_varlr": adam(0.01,0.9,0.999,1e-8,0.1,True,False, lrs=[0.01,0.02,0.005,0.001]),
}
for k,v in cases.items(): print(f'\t"{k}": {{{", ".join(repr(x) for x in v)}}},')
