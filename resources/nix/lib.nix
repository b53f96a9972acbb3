# sweepgui's Nix library: parameter sweeps where every point is a derivation.
#
# Pure builtins: no nixpkgs, no flake input, works offline and on Nix 2.8.
#
#   lib = import ./resources/nix/lib.nix;     # (the flake's `lib` is this file)
#   lib.compute { ... }   lib.linspace   lib.logspace   lib.arange   lib.zip
#   lib.toJSON            lib.withPkgs pkgs   (the same functions built with pkgs.runCommand)
#
# compute { fixedParameters, variableParameters, executable, name,
#           system ? builtins.currentSystem, shell ? "/bin/sh" }
#
#   One derivation per point, and the result: a derivation whose output is a text file
#   listing every point's output path, one per line, in point order. The result also
#   carries `points` (the point derivations) and `parameters` (each point's set), in order.
#
#   fixedParameters     an attribute set that every point contains.
#   variableParameters  name = [ values ] for each swept parameter; a zip (below) is one axis.
#                       The points are the Cartesian product in C order: the first axis
#                       varies slowest, the last fastest, as the points of the app's sweep
#                       files. Nix keeps an attribute set sorted by name, so the axes of one
#                       set come in the order of builtins.attrNames; to choose the order, give
#                       a list of sets, whose order is kept:
#                         variableParameters = [ { temperature = ...; } { pressure = ...; } ];
#   zip { p = [ ... ]; q = [ ... ]; }
#                       lists that move together (equal lengths): ONE axis whose k-th value
#                       sets p and q to their k-th values. The name it is given in
#                       variableParameters (e.g. `pq = lib.zip { ... };`) only places the axis
#                       in the order; it is not a parameter. zip { a = [1 2]; b = [3 4]; }
#                       next to c = [5 6] gives 4 points: (a,b) = (1,3),(2,4) times c = 5, 6.
#   point               fixedParameters // { that point's values } (a variable wins over a
#                       fixed value of the same name; the merge is shallow).
#   executable          the user's command line (a string; it may be a shell fragment), a path
#                       or derivation (a program, copied to the store), or a list of words
#                       (each quoted for the shell). Every point runs it with two arguments,
#                       the point's parameters as a JSON file and the output path to write:
#                         shell -c 'set -- "$parametersPath" "$out"
#                                   <executable> "$1" "$2"' sweepgui
#   name                names each point's derivation (equal parameters give equal store
#                       paths in every sweep); the result is "<name>-outputs".
#   system, shell       the builder platform and the shell that runs the line above. Pure
#                       builtins cannot name a store shell: /bin/sh must exist where points
#                       build (sandbox = false, or a sandbox with /bin/sh). withPkgs uses
#                       pkgs.runCommand and pkgs.runtimeShell instead.
#
#   Parameters are data, never Nix code or shell words: each point's parameters are one JSON
#   text (keys sorted) in a derivation attribute that Nix hands over as a file (passAsFile);
#   the shell line only names the file through "$1". Floats are written exactly (the shortest
#   decimal that reads back as the same double, as Python's repr writes it), which
#   builtins.toJSON does not do on every Nix (2.8 keeps 6 digits); -0.0 is written 0.0, as
#   the app writes it, and NaN or infinity is an error. Integers, strings (quotes, `${`, `$(`,
#   backslashes, newlines, unicode), booleans, null, lists and nested sets arrive as they are.
#
# Value generators (the app's sweep files: sweepgui/sweep/_spec.py), computed like the app:
# in exact decimal arithmetic on the numbers as written (0.1 is one tenth), each value the
# double nearest to the exact result:
#   linspace start stop count        count values, both ends included (count 1: start)
#   logspace startExp stopExp count  10^e for e = linspace startExp stopExp count; a whole e
#                                    gives exactly 10^e, otherwise the double nearest to 10^e
#                                    (the app takes C's pow(), which can be one ulp off: rare)
#   arange start stop step           start, start+step, ... below stop (excluded, also within
#                                    1e-9 steps of it); integers if all three are integers
# Counts are whole numbers 1 .. 1,000,000; exponents lie within -308 .. 308; step > 0.
let
  inherit (builtins)
    attrNames concatMap concatStringsSep elemAt filter foldl' fromJSON genList head isAttrs
    isFloat isInt isList length listToAttrs map stringLength substring throw toJSON typeOf;

  fail = msg: throw "sweepgui lib: ${msg}";
  isNumber = x: (isInt x || isFloat x);
  max = a: b: if a > b then a else b;
  min = a: b: if a < b then a else b;
  range = n: genList (i: i) n;
  concatStrings = concatStringsSep "";
  rev = l: let n = length l; in genList (i: elemAt l (n - 1 - i)) n;
  last = l: elemAt l (length l - 1);
  init = l: genList (i: elemAt l i) (length l - 1);

  # integer helpers (a / b truncates towards zero in Nix)
  mod = a: b: a - b * (a / b);                          # a >= 0, b > 0
  fdiv = a: b: if a >= 0 then a / b else 0 - ((0 - a + b - 1) / b);   # floor, b > 0
  gcd = a: b: if b == 0 then a else gcd b (mod a b);
  pow10i = k: if k == 0 then 1 else 10 * pow10i (k - 1);          # k <= 18
  pow2i = k: if k == 0 then 1 else 2 * pow2i (k - 1);             # k <= 62
  zeros = n: concatStrings (genList (_: "0") n);
  padLeft = n: s: let l = stringLength s; in if l >= n then s else zeros (n - l) + s;
  quote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";   # one shell word
  stripZeros = s: let m = builtins.match "0*([1-9][0-9]*)" s; in if m == null then "0" else head m;
  ndigits = i: stringLength (toString i);

  # ---- natural numbers of any size: little-endian lists of base-1e9 limbs, [] = 0 ----------
  # Enough for exact decimals (the generators' fractions) and for exact float comparisons.
  BASE = 1000000000;
  nat = rec {
    norm = l: if l != [ ] && last l == 0 then norm (init l) else l;
    ofInt = i: if i == 0 then [ ] else [ (mod i BASE) ] ++ ofInt (i / BASE);   # i >= 0
    get = l: i: if i < length l then elemAt l i else 0;
    cmp = a: b:
      let la = length a; lb = length b; in
      if la != lb then (if la < lb then -1 else 1)
      else foldl' (acc: i:
        if acc != 0 then acc
        else let x = elemAt a i; y = elemAt b i; in if x < y then -1 else if x > y then 1 else 0)
        0 (genList (i: la - 1 - i) la);
    add = a: b:
      let r = foldl' (st: i: let t = get a i + get b i + st.c; in
            { l = st.l ++ [ (mod t BASE) ]; c = t / BASE; })
            { l = [ ]; c = 0; } (range (max (length a) (length b)));
      in norm (r.l ++ (if r.c > 0 then [ r.c ] else [ ]));
    sub = a: b:                                            # a >= b
      let r = foldl' (st: i: let t = elemAt a i - get b i - st.c; in
            if t < 0 then { l = st.l ++ [ (t + BASE) ]; c = 1; } else { l = st.l ++ [ t ]; c = 0; })
            { l = [ ]; c = 0; } (range (length a));
      in norm r.l;
    mulSmall = a: m:                                       # 0 <= m <= BASE
      if m == 0 || a == [ ] then [ ]
      else let r = foldl' (st: x: let t = x * m + st.c; in
                 { l = st.l ++ [ (mod t BASE) ]; c = t / BASE; }) { l = [ ]; c = 0; } a;
      in r.l ++ ofInt r.c;
    shift = a: k: if a == [ ] then [ ] else genList (_: 0) k ++ a;     # a * BASE^k
    mul = a: b: foldl' (acc: i: add acc (shift (mulSmall a (elemAt b i)) i)) [ ] (range (length b));
    mulPow10 = a: k: shift (mulSmall a (pow10i (mod k 9))) (k / 9);  # k >= 0
    mulPow2 = a: k: if k >= 29 then mulPow2 (mulSmall a 536870912) (k - 29) else mulSmall a (pow2i k);
    divSmall = a: d:                                       # 1 <= d <= BASE: { q, r }
      let r = foldl' (st: x: let t = st.r * BASE + x; in { q = [ (t / d) ] ++ st.q; r = mod t d; })
            { q = [ ]; r = 0; } (rev a);
      in { q = norm r.q; r = r.r; };
    toString = a:
      if a == [ ] then "0"
      else builtins.toString (last a) + concatStrings (map (x: padLeft 9 (builtins.toString x)) (rev (init a)));
  };

  # signed integers of any size { neg, mag }
  int = rec {
    mk = neg: mag: { neg = neg && mag != [ ]; inherit mag; };
    ofInt = i: if i < 0 then mk true (nat.ofInt (0 - i)) else mk false (nat.ofInt i);
    add = x: y:
      if x.neg == y.neg then mk x.neg (nat.add x.mag y.mag)
      else let c = nat.cmp x.mag y.mag; in
        if c >= 0 then mk x.neg (nat.sub x.mag y.mag) else mk y.neg (nat.sub y.mag x.mag);
    neg = x: mk (!x.neg) x.mag;
    sub = x: y: add x (neg y);
    mulSmall = x: m: mk x.neg (nat.mulSmall x.mag m);     # 0 <= m <= BASE
  };

  # ---- floats: exact parts, exact decimal, shortest round trip ------------------------------
  # 2^k as a double (exact for -1074 <= k <= 1023)
  pow2 = k:
    if k == 0 then 1.0
    else let h = pow2 (k / 2); s = h * h; in
      if k - 2 * (k / 2) == 0 then s else if k > 0 then s * 2.0 else s * 0.5;
  scale2 = x: k: x * pow2 (k / 2) * pow2 (k - k / 2);     # exact while representable

  # largest e with 2^e <= x (x > 0)
  binExp = x:
    let go = lo: hi: if lo == hi then lo
          else let mid = fdiv (lo + hi + 1) 2; in if pow2 mid <= x then go mid hi else go lo (mid - 1);
    in go (-1074) 1023;
  # x = m * 2^q exactly, m an integer below 2^53 (x > 0)
  floatParts = x: let e = binExp x; in { m = builtins.floor (scale2 x (52 - e)); q = e - 52; };

  # 10^k as the double strtod gives (correctly rounded)
  pow10f = k: fromJSON "1e${toString k}";
  # largest E with 10^E (as a double) <= a (a > 0)
  decExp = a:
    let go = lo: hi: if lo == hi then lo
          else let mid = fdiv (lo + hi + 1) 2; in if pow10f mid <= a then go mid hi else go lo (mid - 1);
    in go (-324) 308;

  # The shortest decimal D * 10^t (D an integer without trailing zeros) that reads back as
  # the double a > 0, and of several such, the nearest to a (ties: even D): Python's repr.
  # Candidates come from a float estimate and are checked by reading them back (fromJSON,
  # i.e. strtod: exact); the nearest is chosen in exact integer arithmetic.
  shortest = a:
    let
      E = decExp a;
      y = if E >= -300 then a / pow10f E else (a * 1.0e300) / pow10f (E + 300);   # ~ [1, 10)
      parts = floatParts a;
      # the largest double is 1.7976931348623157e308: longer candidates must stay below the
      # point where strtod overflows (nlohmann's parser fails on infinity)
      fits = D: p: E != 308 || D * pow10i (17 - p) <= 17976931348623158;
      distance = D: t:   # |D*10^t - a| scaled by 10^max(-t,0) * 2^max(-q,0): an integer
        let x = nat.mulPow2 (nat.mulPow10 (nat.ofInt D) (max t 0)) (max (0 - parts.q) 0);
            z = nat.mulPow10 (nat.mulPow2 (nat.ofInt parts.m) (max parts.q 0)) (max (0 - t) 0);
        in if nat.cmp x z >= 0 then nat.sub x z else nat.sub z x;
      nearest = t: cands:
        if length cands == 1 then head cands
        else (foldl' (best: D:
          let dist = distance D t; c = if best == null then -1 else nat.cmp dist best.dist; in
          if c < 0 || (c == 0 && mod D 2 == 0) then { inherit D dist; } else best) null cands).D;
      try = p:
        let
          T = y * pow10f (p - 1);
          d0 = builtins.floor (T + 0.5);
          w = builtins.floor (T * 5.0e-16) + 1;     # a few ulps of the estimate
          t = E - p + 1;
          cands = filter (D: D >= 1 && fits D p && fromJSON "${toString D}e${toString t}" == a)
            (genList (i: d0 - w + i) (2 * w + 1));
        in if cands == [ ] then null else { D = nearest t cands; inherit t; };
      go = p: if p > 17 then fail "no decimal reads back as ${toString a} (please report)"
              else let r = try p; in if r == null then go (p + 1) else r;
      trim = r: if r.D != 0 && mod r.D 10 == 0 then trim { D = r.D / 10; t = r.t + 1; } else r;
    in trim (go 1);

  isNaN = x: x != x;
  isInfinite = x: !(isNaN x) && x - x != 0.0;

  # a double as JSON, as Python's repr writes it (0.1, 1e-300, -2.5, 100000.0, 1e+16)
  formatFloat = x:
    if isNaN x || isInfinite x then fail "${toString x} is not a finite number; JSON has no NaN or infinity"
    else if x == 0.0 then "0.0"
    else
      let
        neg = x < 0.0;
        r = shortest (if neg then 0.0 - x else x);
        s = toString r.D;
        n = stringLength s;
        decpt = n + r.t;            # the value is 0.<s> * 10^decpt
        exp = decpt - 1;
        body =
          if decpt > -4 && decpt <= 16 then
            (if decpt <= 0 then "0." + zeros (0 - decpt) + s
             else if decpt >= n then s + zeros (decpt - n) + ".0"
             else substring 0 decpt s + "." + substring decpt (n - decpt) s)
          else
            substring 0 1 s + (if n > 1 then "." + substring 1 (n - 1) s else "")
            + "e" + (if exp < 0 then "-" else "+") + padLeft 2 (toString (if exp < 0 then 0 - exp else exp));
      in (if neg then "-" else "") + body;

  # JSON of a Nix value: like builtins.toJSON (keys sorted), but floats exact
  jsonOf = v:
    let t = typeOf v; in
    if t == "int" then toString v
    else if t == "float" then formatFloat v
    else if t == "bool" then (if v then "true" else "false")
    else if t == "null" then "null"
    else if t == "string" || t == "path" then toJSON v
    else if t == "list" then "[" + concatStringsSep "," (map jsonOf v) + "]"
    else if t == "set" then
      (if v ? __toString || v ? outPath then toJSON v
       else "{" + concatStringsSep "," (map (k: toJSON k + ":" + jsonOf v.${k}) (attrNames v)) + "}")
    else fail "a ${t} cannot be a parameter: parameters are data (numbers, strings, booleans, null, lists, sets)";

  # ---- exact decimals and the double nearest to a fraction ----------------------------------
  # a number as written: { z (signed integer), e } with value z * 10^e (a float: its repr)
  decimalOf = x:
    if isInt x then { z = int.ofInt x; e = 0; }
    else if x == 0.0 then { z = int.ofInt 0; e = 0; }
    else let neg = x < 0.0; r = shortest (if neg then 0.0 - x else x); in
      { z = int.mk neg (nat.ofInt r.D); e = r.t; };
  # numbers over one common denominator 10^s: { zs = [ signed integers ], s }
  over = xs:
    let ds = map decimalOf xs; e = foldl' (m: d: min m d.e) 0 ds; in
    { zs = map (d: int.mk d.z.neg (nat.mulPow10 d.z.mag (d.e - e))) ds; s = 0 - e; };

  # the double nearest to z / (d * 10^s), ties to even (Python's int / int): 1 <= d <= 1e6,
  # s >= 0. The fraction is written as a decimal that strtod (fromJSON) rounds exactly: all
  # its digits when it terminates; otherwise enough digits and a final 1 that no midpoint
  # between two doubles can lie between the decimal and the fraction.
  nearestDouble = { z, d, s }:
    if z.mag == [ ] then 0.0
    else
      let
        qr = nat.divSmall z.mag d;
        q = nat.toString qr.q;
        g = gcd qr.r d;
        dr = d / g;
        strip = f: n: c: if mod n f == 0 then strip f (n / f) (c + 1) else { inherit n c; };
        twos = strip 2 dr 0;
        fives = strip 5 twos.n 0;
        k = max twos.c fives.c;
        F = 2 * ndigits d + 20 + s;
        digits =
          if qr.r == 0 then { m = q; x = 0 - s; }
          else if fives.n == 1 then   # terminates: r/d = (r/g) * (10^k/dr) / 10^k exactly
            { m = q + padLeft k (nat.toString (nat.divSmall (nat.mulPow10 (nat.ofInt (qr.r / g)) k) dr).q);
              x = 0 - s - k; }
          else
            { m = q + padLeft F (nat.toString (nat.divSmall (nat.mulPow10 (nat.ofInt qr.r) F) d).q) + "1";
              x = 0 - s - F - 1; };
      in fromJSON "${if z.neg then "-" else ""}${stripZeros digits.m}e${toString digits.x}";

  # ---- 10^x for a non-integral double x: double-double arithmetic, then one rounding --------
  dd = rec {
    twoSum = a: b: let s = a + b; bb = s - a; in { hi = s; lo = (a - (s - bb)) + (b - bb); };
    quick = a: b: let s = a + b; in { hi = s; lo = b - (s - a); };
    split = a: let t = 134217729.0 * a; h = t - (t - a); in { hi = h; lo = a - h; };
    twoProd = a: b:
      let p = a * b; x = split a; y = split b; in
      { hi = p; lo = ((x.hi * y.hi - p) + x.hi * y.lo + x.lo * y.hi) + x.lo * y.lo; };
    add = x: y:
      let s = twoSum x.hi y.hi; t = twoSum x.lo y.lo; v = quick s.hi (s.lo + t.hi); in
      quick v.hi (t.lo + v.lo);
    mul = x: y: let p = twoProd x.hi y.hi; in quick p.hi (p.lo + (x.hi * y.lo + x.lo * y.hi));
    mulF = x: f: let p = twoProd x.hi f; in quick p.hi (p.lo + x.lo * f);
    divF = x: f:
      let q1 = x.hi / f; p = twoProd q1 f; r = add x { hi = 0.0 - p.hi; lo = 0.0 - p.lo; }; in
      quick q1 (r.hi / f);
    one = { hi = 1.0; lo = 0.0; };
    ln10 = { hi = 2.302585092994045901e+00; lo = -2.170756223382249351e-16; };
    ln2 = { hi = 6.931471805599452862e-01; lo = 2.319046813846299558e-17; };
  };
  exp10 = x:
    let
      t = dd.add (dd.twoProd x dd.ln10.hi) (dd.twoProd x dd.ln10.lo);      # x ln 10
      k = builtins.floor (t.hi / dd.ln2.hi + 0.5);
      r = dd.add t (dd.mulF dd.ln2 (0.0 - k));                             # |r| <= ln2 / 2
      r8 = { hi = r.hi / 256.0; lo = r.lo / 256.0; };
      # exp(r8) = 1 + r8 (1 + r8/2 (1 + r8/3 (...))), 14 terms (|r8| < 0.0014)
      series = foldl' (s: i: dd.add dd.one (dd.divF (dd.mul r8 s) (i * 1.0))) dd.one (genList (i: 14 - i) 14);
      e = foldl' (s: _: dd.mul s s) series (range 8);                      # exp(r) = exp(r8)^256
    in scale2 e.hi k;

  # ---- the generators (as sweepgui/sweep/_spec.py) ---------------------------------------
  MAX_VALUES = 1000000;
  checkNumber = what: x:
    if !(isNumber x) then fail "${what} must be a number, got a ${typeOf x}"
    else if isFloat x && (isNaN x || isInfinite x) then fail "${what} must be a finite number"
    else x;
  countOf = gen: c:
    let c' = checkNumber "${gen}: the count" c; in
    if c' < 1 then fail "${gen}: the count must be at least 1, got ${toString c}"
    else if c' > MAX_VALUES then fail "${gen} gives ${toString c} values, more than the limit of 1,000,000 points"
    else if isFloat c' && builtins.floor c' != c' then fail "${gen}: the count must be a whole number, got ${toString c}"
    else if isFloat c' then builtins.floor c' else c';

  linspace = start: stop: count:
    let
      n = countOf "linspace" count;
      o = over [ (checkNumber "linspace: start" start) (checkNumber "linspace: stop" stop) ];
      a = elemAt o.zs 0;
      b = elemAt o.zs 1;
      step = int.sub b a;
      a' = int.mulSmall a (n - 1);
    in
    if n == 1 then [ (nearestDouble { z = a; d = 1; inherit (o) s; }) ]
    else genList (k: nearestDouble { z = int.add a' (int.mulSmall step k); d = n - 1; inherit (o) s; }) n;

  logspace = startExp: stopExp: count:
    let
      checkExp = what: e:
        let e' = checkNumber what e; in
        if e' < -308 || e' > 308 then
          fail "logspace: the exponents must lie within -308..308 (10^-308 .. 10^308, the range of a float), got ${toString e}"
        else e';
      a0 = checkExp "logspace: start exponent" startExp;
      b0 = checkExp "logspace: stop exponent" stopExp;
      n = countOf "logspace" count;
      o = over [ a0 b0 ];
      a = elemAt o.zs 0;
      b = elemAt o.zs 1;
      d = if n > 1 then n - 1 else 1;
      a' = if n > 1 then int.mulSmall a d else a;
      step = if n > 1 then int.sub b a else int.ofInt 0;
      value = k:
        let
          num = int.add a' (int.mulSmall step k);     # the exponent is num / (d * 10^s)
          qr = nat.divSmall num.mag d;
          q = nat.toString qr.q;
          lq = stringLength q;
          whole = qr.r == 0 && (o.s == 0 || qr.q == [ ] || (lq > o.s && substring (lq - o.s) o.s q == zeros o.s));
          e = if qr.q == [ ] then 0 else fromJSON (substring 0 (lq - o.s) q);
        in
        if whole then pow10f (if num.neg then 0 - e else e)        # exactly 10^e
        else exp10 (nearestDouble { z = num; inherit d; inherit (o) s; });
    in genList value n;

  # Fraction(1e-9) of the app: the double 1e-9, exactly
  tolerance = floatParts 1.0e-9;
  arange = start: stop: step:
    let
      step' = checkNumber "arange: the step" step;
      start' = checkNumber "arange: start" start;
      stop' = checkNumber "arange: stop" stop;
      o = over [ start' stop' step' ];
      a = elemAt o.zs 0;
      b = elemAt o.zs 1;
      s = elemAt o.zs 2;
      diff = int.sub b a;
      Q = 0 - tolerance.q;
      # n = ceil((b - a)/s - tol) = ceil(num / den), num = (b-a) 2^Q - m s, den = s 2^Q
      big = nat.mulPow2 diff.mag Q;
      cut = nat.mul (nat.ofInt tolerance.m) s.mag;
      den = nat.mulPow2 s.mag Q;
      num = nat.sub big cut;
      atLeast = k: nat.cmp (nat.mulSmall den k) num >= 0;          # k den >= num
      search = lo: hi: if lo == hi then lo
        else let mid = (lo + hi) / 2; in if atLeast mid then search lo mid else search (mid + 1) hi;
      n =
        if diff.neg || diff.mag == [ ] || nat.cmp big cut <= 0 then 0
        else if !(atLeast MAX_VALUES) then
          fail "arange gives more than 1,000,000 values, more than the limit of 1,000,000 points"
        else search 1 MAX_VALUES;
    in
    if step' <= 0 then fail "arange: the step must be a positive number, got ${toString step}"
    else if isInt start' && isInt stop' && isInt step' then genList (k: start' + step' * k) n
    else genList (k: nearestDouble { z = int.add a (int.mulSmall s k); d = 1; inherit (o) s; }) n;

  # ---- zip and the points -------------------------------------------------------------------
  zip = lists:
    let
      names = attrNames lists;
      lens = map (n: let l = lists.${n}; in
        if isList l then length l else fail "zip: ${n} must be a list, got a ${typeOf l}") names;
      n0 = head lens;
    in
    if names == [ ] then fail "zip needs at least one list"
    else if filter (l: l != n0) lens != [ ] then
      fail "zip: the lists must have the same length, got ${concatStringsSep ", " (map (n: "${n}: ${toString (length lists.${n})}") names)}"
    else {
      _type = "sweepgui-zip";
      inherit names;
      points = genList (i: listToAttrs (map (n: { name = n; value = elemAt lists.${n} i; }) names)) n0;
    };
  isZip = v: isAttrs v && (v._type or null) == "sweepgui-zip";

  # one axis: { members, values = [ { v = the point's values; j = their JSON texts } ] }
  axisOf = name: v:
    let mk = members: sets: { inherit members; values = map (p: { v = p; j = builtins.mapAttrs (_: jsonOf) p; }) sets; }; in
    if isZip v then mk v.names v.points
    else if isList v then mk [ name ] (map (x: { ${name} = x; }) v)
    else fail "variableParameters.${name} must be a list of values (or lib.zip { ... }), got a ${typeOf v}; a single value belongs in fixedParameters";
  axesOf = vp:
    if isList vp then concatMap axesOf vp
    else if isZip vp then [ (axisOf "zip" vp) ]
    else if isAttrs vp then map (n: axisOf n vp.${n}) (attrNames vp)
    else fail "variableParameters must be an attribute set of lists (or a list of such sets)";

  # what a backend builds: the points, then the listing of their outputs
  computeWith = backend:
    { fixedParameters ? { }
    , variableParameters ? { }
    , executable
    , name
    , system ? null
    , shell ? null
    }:
    let
      axes = axesOf variableParameters;
      members = concatMap (a: a.members) axes;
      twice = filter (m: length (filter (x: x == m) members) > 1) members;
      fixed = if isAttrs fixedParameters then fixedParameters else fail "fixedParameters must be an attribute set";
      fixedJson = builtins.mapAttrs (_: jsonOf) fixed;
      combos = foldl' (acc: axis: concatMap (c: map (x: { v = c.v // x.v; j = c.j // x.j; }) axis.values) acc)
        [ { v = { }; j = { }; } ] axes;
      textOf = js: "{" + concatStringsSep "," (map (k: toJSON k + ":" + js.${k}) (attrNames js)) + "}";
      # a path or derivation: its store path; a number: its text
      word = w: if builtins.isPath w || isAttrs w || builtins.isString w then "${w}" else toString w;
      command =
        if isList executable then concatStringsSep " " (map (w: quote (word w)) executable)
        else word executable;
      # the parameters reach the command only as "$1" (a file), the output as "$2"
      line = "${command} \"$1\" \"$2\"";
      points = map (c: backend.point { inherit name system shell line; json = textOf (fixedJson // c.j); }) combos;
      listing = backend.listing {
        name = "${name}-outputs";
        inherit system shell;
        text = concatStrings (map (p: "${p.outPath}\n") points);
      };
    in
    if twice != [ ] then fail "the parameter ${head twice} is swept twice (in two variables or zips)"
    else listing // {
      inherit points;
      parameters = map (c: fixed // c.v) combos;
    };

  pure = {
    point = { name, system, shell, line, json }:
      derivation {
        inherit name;
        system = if system == null then builtins.currentSystem else system;
        builder = if shell == null then "/bin/sh" else shell;
        args = [ "-c" "set -- \"$parametersPath\" \"$out\"\n${line}" "sweepgui" ];
        parameters = json;
        passAsFile = [ "parameters" ];
      };
    listing = { name, system, shell, text }:
      derivation {
        inherit name;
        system = if system == null then builtins.currentSystem else system;
        builder = if shell == null then "/bin/sh" else shell;   # its builtins only
        args = [ "-c" "while IFS= read -r p; do printf '%s\\n' \"$p\"; done < \"$pointOutputsPath\" > \"$out\"" ];
        pointOutputs = text;
        passAsFile = [ "pointOutputs" ];
        preferLocalBuild = true;
        allowSubstitutes = false;
      };
  };

  withPkgs = pkgs:
    let
      hostSystem = pkgs.stdenv.hostPlatform.system;
      checkSystem = system:
        if system == null || system == hostSystem then true
        else fail "withPkgs builds for ${hostSystem} (the system of pkgs), not ${system}; use the pkgs of ${system}";
      backend = {
        point = { name, system, shell, line, json }:
          assert checkSystem system;
          pkgs.runCommand name { parameters = json; passAsFile = [ "parameters" ]; } ''
            ${if shell == null then pkgs.runtimeShell else shell} -c ${quote line} sweepgui "$parametersPath" "$out"
          '';
        listing = { name, system, shell, text }:
          assert checkSystem system;
          pkgs.runCommand name {
            pointOutputs = text;
            passAsFile = [ "pointOutputs" ];
            preferLocalBuild = true;
            allowSubstitutes = false;
          } ''cp "$pointOutputsPath" "$out"'';
      };
    in
    self // { compute = computeWith backend; };

  self = {
    compute = computeWith pure;
    inherit linspace logspace arange zip withPkgs;
    toJSON = jsonOf;
  };
in
self
